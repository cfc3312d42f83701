import { z } from "zod";
import { AppError } from "../errors.ts";
import { failure, type RunOptions, type RunResult } from "../process/runner.ts";
import { classifyKopiaError } from "./errors.ts";

/** `kopia.ts`'s `run`: argv after `kopia --config-file …`, our env, errors classified. */
export type KopiaRun = (args: string[], o?: RunOptions & { password?: boolean }) => Promise<RunResult>;

/**
 * kopia's object-ID syntax (`repo/object/objectid.go` ParseID and `String`): `I` per level of
 * indirection or `Z` for compression (never both), an optional content prefix `g`..`z`, then the
 * content hash as lowercase hex (16 to 32 bytes). Nothing else is ever passed to kopia as an object ID.
 */
const OBJECT_ID = /^(?:I+|Z)?[g-z]?(?:[0-9a-f]{2}){16,32}$/;
/** Manifest IDs: random bytes in hex. */
const MANIFEST_ID = /^[0-9a-f]{16,64}$/;

export const isObjectId = (s: string): boolean => OBJECT_ID.test(s);

/** One entry of a directory object, as `kopia show` prints it (`snapshot/manifest.go` DirEntry). */
export const DirEntrySchema = z.looseObject({
  name: z.string(),
  /** "d" directory, "f" file, "s" symlink. */
  type: z.string(),
  /** RFC 3339 with ns, UTC. Left out by kopia when it is the Unix epoch (`omitempty`). */
  mtime: z.string().optional(),
  obj: z.string(),
  /** Directories only: the summary of everything below, `maxTime` its newest mtime. */
  summ: z.looseObject({ maxTime: z.string() }).optional(),
});
export type DirEntry = z.infer<typeof DirEntrySchema>;

export const DirectoryObjectSchema = z.looseObject({
  stream: z.literal("kopia:directory"),
  entries: z.array(DirEntrySchema),
});
export type DirectoryObject = z.infer<typeof DirectoryObjectSchema>;

/** Longest directory object read back (~100k entries): bounds what one `show` may hold in memory. */
export const MAX_DIRECTORY_OBJECT_BYTES = 32 * 1024 * 1024;

/** The calls on single repository objects: `kopia show` and `snapshot fix`. */
export function objectMethods(run: KopiaRun) {
  return {
    /**
     * A directory object of a snapshot as JSON (`kopia show <obj>`; kopia resolves an indirect one).
     * Throws on a malformed object ID, a failed exit, output over `maxBytes` or of another shape.
     */
    async showDirectory(
      objectId: string,
      o: { signal?: AbortSignal; maxBytes?: number } = {},
    ): Promise<DirectoryObject> {
      if (!isObjectId(objectId))
        throw new AppError(
          "process_failed",
          `not a kopia object ID: ${JSON.stringify(objectId.slice(0, 80))}`,
        );
      const max = o.maxBytes ?? MAX_DIRECTORY_OBJECT_BYTES;
      const stop = new AbortController();
      const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
      let text: Promise<string | undefined> = Promise.resolve("");
      // One call per directory read, up to MAX_RACY_DIRECTORIES a run: no log file each (a third faster).
      const args = ["show", objectId, "--disable-file-logging", "--disable-content-log"];
      const r = await run(args, {
        signal,
        check: false,
        timeoutMs: 300_000,
        stdoutStream: (s) => {
          text = readCapped(s, max, () => stop.abort());
        },
      });
      const out = await text;
      if (out === undefined)
        throw new AppError("process_failed", `kopia show ${objectId}: directory object over ${max} bytes`);
      if (r.exitCode !== 0) throw classifyKopiaError(failure(r));
      return parseDirectoryObject(out, objectId);
    },

    /**
     * Removes every entry whose object ID is one of `objectIds`, anywhere in the tree of one snapshot
     * (`snapshot fix remove-files`). kopia saves the rewritten manifest under a new ID and deletes the
     * old one; it exits 0 even when the manifest does not exist, so the caller checks the result in
     * `snapshot list`. A directory it cannot read fails the call instead of becoming a stub file.
     * argv: at most `MAX_FIX_OBJECT_IDS` of ≤ 67 characters, under 0.5 MB (Linux allows 2 MB).
     */
    async snapshotFixRemoveFiles(
      manifestId: string,
      objectIds: readonly string[],
      o: { signal?: AbortSignal; onStderrLine?: (line: string) => void } = {},
    ): Promise<void> {
      if (!MANIFEST_ID.test(manifestId)) throw new AppError("process_failed", "not a kopia manifest ID");
      if (objectIds.length === 0 || objectIds.length > MAX_FIX_OBJECT_IDS)
        throw new AppError(
          "process_failed",
          `${objectIds.length} object IDs to remove (1 to ${MAX_FIX_OBJECT_IDS})`,
        );
      const bad = objectIds.find((id) => !isObjectId(id));
      if (bad !== undefined) throw new AppError("process_failed", "not a kopia object ID");
      const args = ["snapshot", "fix", "remove-files", "--manifest-id", manifestId];
      for (const id of objectIds) args.push("--object-id", id);
      args.push("--invalid-directory-handling=fail", "--commit", "--no-auto-maintenance");
      const r = await run(args, {
        signal: o.signal,
        check: false,
        timeoutMs: 600_000,
        ...(o.onStderrLine ? { onStderrLine: o.onStderrLine } : {}),
      });
      // Not kopia's stderr nor the argv: it names every removed file (untrusted names), and the argv
      // holds up to thousands of IDs. `onStderrLine` has the lines.
      if (r.exitCode !== 0)
        throw new AppError(
          "process_failed",
          `kopia snapshot fix remove-files (${objectIds.length} object IDs) ${r.timedOut ? "timed out" : r.signal ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`}`,
        );
    },
  };
}

/** Most object IDs one `snapshot fix` call is given. */
export const MAX_FIX_OBJECT_IDS = 5000;

/**
 * A directory object from `show`'s output. Unlike `parseKopiaJson` it never quotes the output in its
 * error: that holds file names, which are untrusted and end up in logs.
 */
function parseDirectoryObject(text: string, objectId: string): DirectoryObject {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new AppError("process_failed", `kopia show ${objectId} printed something that is not JSON`);
  }
  const r = DirectoryObjectSchema.safeParse(raw);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  throw new AppError(
    "process_failed",
    `kopia show ${objectId} printed no directory object (${r.error.issues.length} problem(s), first at "${first?.path.join(".")}": ${first?.code})`,
  );
}

/** The stream as text, or undefined (and `tooLong` called) once it passes `max` bytes. */
async function readCapped(
  s: ReadableStream<Uint8Array>,
  max: number,
  tooLong: () => void,
): Promise<string | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of s) {
    size += c.byteLength;
    if (size > max) {
      tooLong();
      return undefined;
    }
    chunks.push(c);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
