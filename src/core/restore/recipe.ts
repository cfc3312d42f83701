import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type NetworkInspect, NetworkInspectSchema } from "../docker/schemas.ts";
import { AppError } from "../errors.ts";
import { isRecord } from "../guards.ts";
import { nameProblem } from "../names-rules.ts";
import type { FileAttributes } from "../snapshot/file-attributes.ts";
import { NETWORKS_JSON, RECIPE } from "../snapshot/layout.ts";
import { type UnitJson, UnitJsonSchema } from "../snapshot/unit-json.ts";
import { STORED_PROJECT } from "../snapshot/validate.ts";

/** A recipe restored to a temp directory and read. */
export interface LoadedRecipe {
  dir: string;
  unit: UnitJson;
  /** `docker inspect` per container name (secret env values redacted at backup time). */
  inspects: Record<string, Record<string, unknown>>;
  /**
   * Compose files then project files: path inside the recipe, content hash, and the mode, owner and
   * mtime the backup recorded (absent in older recipes, or when the recorded ones were refused).
   */
  files: { stored: string; sha256: string; attributes?: FileAttributes }[];
  /** Full `docker network inspect` objects from the networks snapshot. */
  networks: NetworkInspect[];
  /** coverage.json items: what the backup protected and what it did not (absent in old recipes). */
  coverage?: { kind: string; id: string; status: string; detail?: string }[];
}

/** Reads a restored recipe directory (and an optional restored networks directory). */
export function readRecipe(dir: string, networksDir?: string): LoadedRecipe {
  const file = join(dir, RECIPE.unitJson);
  if (!isRegularFile(file)) throw new AppError("restore_failed", `the recipe has no unit.json (${dir})`);
  const parsed = UnitJsonSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new AppError("restore_failed", `the recipe's unit.json is refused: ${issues}`, {
      hint: "nothing was changed; the snapshot was not written by kopi-docka or was altered",
    });
  }
  const inspects: LoadedRecipe["inspects"] = {};
  const inspectDir = join(dir, RECIPE.inspectDir);
  for (const f of isDirectory(inspectDir) ? readdirSync(inspectDir) : []) {
    if (!f.endsWith(".json") || !isRegularFile(join(inspectDir, f))) continue;
    if (nameProblem("container", f.slice(0, -5))) continue;
    const raw = JSON.parse(readFileSync(join(inspectDir, f), "utf8"));
    inspects[f.slice(0, -5)] = Array.isArray(raw) ? raw[0] : raw;
  }
  const projectDir = join(dir, RECIPE.projectDir);
  const projectFiles = isDirectory(projectDir)
    ? readdirSync(projectDir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(RECIPE.projectDir, join(e.parentPath, e.name).slice(projectDir.length + 1)))
        .filter((f) => STORED_PROJECT.test(f))
        .sort()
    : [];
  const stored = [...parsed.data.composeFiles.map((c) => c.stored), ...projectFiles];
  // A symlink in a restored recipe would make the restore read (and copy out) a host file.
  const attributes = new Map(parsed.data.fileAttributes.map((a) => [a.stored, a]));
  const files = stored
    .filter((f) => isRegularFile(join(dir, f)))
    .map((f) => {
      const a = attributes.get(f);
      return { stored: f, sha256: sha256File(join(dir, f)), ...(a ? { attributes: a } : {}) };
    });
  const netFile = networksDir ? join(networksDir, NETWORKS_JSON) : "";
  const networks = netFile && isRegularFile(netFile) ? JSON.parse(readFileSync(netFile, "utf8")) : [];
  for (const n of Array.isArray(networks) ? networks : []) {
    const bad = nameProblem("network", String((isRecord(n) ? n.Name : undefined) ?? ""));
    if (bad) throw new AppError("restore_failed", `the recipe's networks.json is refused: ${bad}`);
  }
  const coverageFile = join(dir, RECIPE.coverage);
  const items = isRegularFile(coverageFile)
    ? JSON.parse(readFileSync(coverageFile, "utf8"))?.items
    : undefined;
  return {
    dir,
    unit: parsed.data,
    inspects,
    files,
    networks: savedNetworks(networks),
    ...(Array.isArray(items) ? { coverage: items } : {}),
  };
}

/** networks.json as read back from a snapshot (untrusted): every entry must be a network inspect. */
function savedNetworks(raw: unknown): NetworkInspect[] {
  const parsed = NetworkInspectSchema.array().safeParse(Array.isArray(raw) ? raw : []);
  if (parsed.success) return parsed.data;
  throw new AppError(
    "restore_failed",
    `the point's networks.json is not understood: ${parsed.error.message}`,
  );
}

/** The file name a stored compose file gets in the target dir: its original base name, `NN-` dropped. */
export function composeTargetName(stored: string, all: readonly string[]): string {
  const base = stored.split("/").pop() ?? stored;
  const plain = base.replace(/^\d\d-/, "");
  const clash = all.filter((s) => (s.split("/").pop() ?? s).replace(/^\d\d-/, "") === plain).length > 1;
  return clash ? base : plain;
}

export function sha256File(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

/** A regular file, not a symlink to one. */
function isRegularFile(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

function isDirectory(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
