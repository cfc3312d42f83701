import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isRecord } from "../guards.ts";
import type { LoadedRecipe } from "./recipe.ts";

/**
 * What a unit's compose files fix themselves, read from the recipe (untrusted text: only parsed,
 * never executed or interpolated). A network's subnet Docker picked from its pool is not part of the
 * unit: a restore lets Docker pick again instead of pinning it (it may be taken on another host).
 */
export interface ComposeFacts {
  /** `version:` of the first compose file; an override file must carry the same. */
  version?: string;
  /** Per compose network key: whether the files set a driver, an IPAM config (subnet, ranges). */
  networks: Record<string, { driver: boolean; subnet: boolean }>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (isRecord(v) ? v : {});

/** Undefined when a compose file is missing or does not parse: then nothing counts as automatic. */
export function readComposeFacts(recipe: LoadedRecipe): ComposeFacts | undefined {
  const texts: string[] = [];
  for (const f of recipe.unit.composeFiles) {
    const path = join(recipe.dir, f.stored);
    if (!existsSync(path)) return undefined;
    texts.push(readFileSync(path, "utf8"));
  }
  return texts.length ? composeFacts(texts) : undefined;
}

/** Later files add to earlier ones, as `-f a -f b` merges them. Pure. */
export function composeFacts(texts: readonly string[]): ComposeFacts | undefined {
  const facts: ComposeFacts = { networks: {} };
  for (const [i, text] of texts.entries()) {
    let doc: Obj;
    try {
      doc = obj(Bun.YAML.parse(text));
    } catch {
      return undefined;
    }
    if (i === 0 && (typeof doc.version === "string" || typeof doc.version === "number"))
      facts.version = String(doc.version);
    for (const [key, raw] of Object.entries(obj(doc.networks))) {
      const n = obj(raw);
      const config = obj(n.ipam).config;
      const was = facts.networks[key] ?? { driver: false, subnet: false };
      facts.networks[key] = {
        driver: was.driver || n.driver !== undefined,
        subnet: was.subnet || (Array.isArray(config) && config.length > 0),
      };
    }
  }
  return facts;
}

/**
 * Whether a recorded network's driver and subnet were fixed by the user. Only a compose network
 * (labelled with its key) whose compose files were read can be automatic; any other network, or
 * one whose files are unknown, counts as fixed in both.
 */
export function fixedByUser(
  labels: Record<string, string>,
  facts: ComposeFacts | undefined,
): { driver: boolean; subnet: boolean } {
  const key = labels["com.docker.compose.network"];
  if (!facts || !key) return { driver: true, subnet: true };
  return facts.networks[key] ?? { driver: false, subnet: false };
}
