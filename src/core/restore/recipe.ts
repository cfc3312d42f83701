import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { type NetworkInspect, NetworkInspectSchema } from "../docker/schemas.ts";
import { AppError } from "../errors.ts";

/** `unit.json` at the root of a recipe snapshot (ARCHITECTURE.md "Recipe layout"). Unknown keys kept. */
export const UnitJsonSchema = z.looseObject({
  unit: z.string(),
  type: z.enum(["compose", "standalone"]),
  workingDir: z.string().nullable().optional(),
  backup_id: z.string().optional(),
  run_id: z.string().optional(),
  timestamp: z.string().optional(),
  scope: z.string().optional(),
  /** Compose files the backup could not find have `stored: null`; they are dropped here. */
  composeFiles: z
    .array(z.looseObject({ labelPath: z.string(), stored: z.string().nullable() }))
    .default([])
    .transform((fs) => fs.flatMap((f) => (f.stored ? [{ labelPath: f.labelPath, stored: f.stored }] : []))),
  containers: z
    .array(
      z.looseObject({
        name: z.string(),
        service: z.string().optional(),
        image: z.string(),
        running: z.boolean().optional(),
        restartPolicy: z.string().optional(),
      }),
    )
    .default([]),
  volumes: z
    .array(
      z.looseObject({
        name: z.string(),
        driver: z.string().default("local"),
        options: z.record(z.string(), z.string()).nullable().default({}),
        labels: z.record(z.string(), z.string()).nullable().default({}),
        usedBy: z.array(z.string()).default([]),
      }),
    )
    .default([]),
  bindMounts: z
    .array(
      z.looseObject({
        source: z.string(),
        targets: z.array(z.looseObject({ container: z.string(), destination: z.string() })).default([]),
        readOnly: z.boolean().optional(),
        kind: z.string().optional(),
      }),
    )
    .default([]),
  networks: z.array(z.string()).default([]),
});
export type UnitJson = z.infer<typeof UnitJsonSchema>;

/** A recipe restored to a temp directory and read. */
export interface LoadedRecipe {
  dir: string;
  unit: UnitJson;
  /** `docker inspect` per container name (secret env values redacted at backup time). */
  inspects: Record<string, Record<string, unknown>>;
  /** Compose files then project files: path inside the recipe and content hash. */
  files: { stored: string; sha256: string }[];
  /** Full `docker network inspect` objects from the networks snapshot. */
  networks: NetworkInspect[];
  /** coverage.json items: what the backup protected and what it did not (absent in old recipes). */
  coverage?: { kind: string; id: string; status: string; detail?: string }[];
}

/** Reads a restored recipe directory (and an optional restored networks directory). */
export function readRecipe(dir: string, networksDir?: string): LoadedRecipe {
  const file = join(dir, "unit.json");
  if (!existsSync(file)) throw new AppError("restore_failed", `the recipe has no unit.json (${dir})`);
  const parsed = UnitJsonSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    throw new AppError("restore_failed", `the recipe's unit.json is not understood: ${parsed.error.message}`);
  }
  const inspects: LoadedRecipe["inspects"] = {};
  const inspectDir = join(dir, "inspect");
  for (const f of existsSync(inspectDir) ? readdirSync(inspectDir) : []) {
    if (!f.endsWith(".json")) continue;
    const raw = JSON.parse(readFileSync(join(inspectDir, f), "utf8"));
    inspects[f.slice(0, -5)] = Array.isArray(raw) ? raw[0] : raw;
  }
  const projectDir = join(dir, "project");
  const projectFiles = existsSync(projectDir)
    ? readdirSync(projectDir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join("project", join(e.parentPath, e.name).slice(projectDir.length + 1)))
        .sort()
    : [];
  const stored = [...parsed.data.composeFiles.map((c) => c.stored), ...projectFiles];
  const files = stored
    .filter((f) => existsSync(join(dir, f)))
    .map((f) => ({ stored: f, sha256: sha256File(join(dir, f)) }));
  const netFile = networksDir ? join(networksDir, "networks.json") : "";
  const networks = netFile && existsSync(netFile) ? JSON.parse(readFileSync(netFile, "utf8")) : [];
  const coverageFile = join(dir, "coverage.json");
  const items = existsSync(coverageFile) ? JSON.parse(readFileSync(coverageFile, "utf8"))?.items : undefined;
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
