import { z } from "zod";
import { AppError } from "../errors.ts";

/**
 * A snapshot id (or object id) as kopia writes one: letters and digits. Ids are read back from the
 * repository (untrusted) and go into kopia's argv: one shaped like a flag (`--all-snapshots-for-source`)
 * would make a delete of one point a delete of a whole source, or a restore run with other options.
 */
export const isSnapshotId = (id: string): boolean => /^[0-9A-Za-z]{1,128}$/.test(id);

/** Throws before kopia runs when one of `ids` is not a snapshot id; `outcome` says what that left. */
export function checkSnapshotIds(ids: readonly string[], outcome = "nothing was changed"): void {
  const bad = ids.find((id) => !isSnapshotId(id));
  if (bad !== undefined)
    throw new AppError(
      "check_failed",
      `the repository lists a snapshot id that is not one (${JSON.stringify(bad.slice(0, 80))}): ${outcome}`,
      {
        hint: "`kopi-docka kopia -- snapshot list --all --json` shows the manifest; remove it with kopia by hand",
      },
    );
}

/** `kopia snapshot create --json` / `snapshot list --json` manifest; unknown fields are kept. */
export const SnapshotManifestSchema = z.looseObject({
  id: z.string(),
  source: z.looseObject({ host: z.string(), userName: z.string(), path: z.string() }),
  description: z.string().optional(),
  startTime: z.string(),
  endTime: z.string().optional(),
  incomplete: z.string().optional(),
  rootEntry: z
    .looseObject({
      obj: z.string().optional(),
      summ: z
        .looseObject({
          size: z.number().optional(),
          files: z.number().optional(),
          symlinks: z.number().optional(),
          dirs: z.number().optional(),
          numFailed: z.number().optional(),
          /** The newest mtime in the tree. */
          maxTime: z.string().optional(),
          errors: z.array(z.looseObject({ path: z.string(), error: z.string() })).optional(),
        })
        .optional(),
    })
    .optional(),
  tags: z.record(z.string(), z.string()).optional(),
  pins: z.array(z.string()).optional(),
  /** Why the source's retention policy keeps it (`latest-1`, `daily-3`); none: the next expire deletes it. */
  retentionReason: z.array(z.string()).optional(),
  stats: z.looseObject({ totalSize: z.number().optional(), cachedFiles: z.number().optional() }).optional(),
});
export type SnapshotManifest = z.infer<typeof SnapshotManifestSchema>;

export const RepositoryStatusSchema = z.looseObject({
  configFile: z.string().optional(),
  uniqueIDHex: z.string().optional(),
  clientOptions: z.looseObject({ hostname: z.string(), username: z.string() }).optional(),
  storage: z.looseObject({ type: z.string(), config: z.unknown().optional() }).optional(),
  /** Absent through a repository server: the format is the server's business. */
  contentFormat: z.looseObject({ hash: z.string().optional(), encryption: z.string().optional() }).optional(),
  objectFormat: z.looseObject({ splitter: z.string().optional() }).optional(),
});
export type RepositoryStatus = z.infer<typeof RepositoryStatusSchema>;

/** Parses kopia JSON output, turning a shape mismatch into a clear error instead of a crash later. */
export function parseKopiaJson<S extends z.ZodType>(schema: S, text: string, what: string): z.infer<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new AppError(
      "process_failed",
      `kopia printed something that is not JSON for ${what}: ${text.slice(0, 200)}`,
    );
  }
  const r = schema.safeParse(raw);
  if (!r.success)
    throw new AppError("process_failed", `unexpected kopia output for ${what}: ${r.error.message}`);
  return r.data;
}

/** Parses the one-JSON-object-per-line output of `snapshot create --json` (one line per source). */
export function parseSnapshotLines(stdout: string): SnapshotManifest[] {
  return stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{"))
    .map((l) => parseKopiaJson(SnapshotManifestSchema, l, "snapshot create"));
}

/** Tags without kopia's `tag:` prefix. */
export function snapshotTags(m: SnapshotManifest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.tags ?? {})) out[k.replace(/^tag:/, "")] = v;
  return out;
}

/** `kopia --version` prints "v0.23.1 build: ..."; returns "0.23.1". */
export function parseKopiaVersion(text: string): string | undefined {
  return /v?(\d+\.\d+\.\d+)/.exec(text)?.[1];
}
