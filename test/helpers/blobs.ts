import { renameSync } from "node:fs";
import { join } from "node:path";
import { run } from "./env.ts";

/** A blob of a kopia repository on disk. */
export interface BlobFile {
  size: number;
  path: string;
  /** kopia's blob ID: each backend shards IDs into directories its own way (`p/8d9/43b…f`, `p8d/943/…f`). */
  id: string;
}

/** Every blob file under `root` (a filesystem or SFTP repository's directory). */
export async function blobFiles(root: string): Promise<BlobFile[]> {
  return (await run(["find", root, "-type", "f", "-printf", "%s %P\\n"])).stdout
    .trim()
    .split("\n")
    .map((l) => l.split(" "))
    .map(([size, rel = ""]) => ({
      size: Number(size),
      path: join(root, rel),
      id: rel.replaceAll("/", "").replace(/\.f$/, ""),
    }));
}

/**
 * Moves to `lost` an index blob of the repository at `root` whose loss leaves a snapshot unreadable,
 * as `unreadable` (kopi-docka's `repo verify`) finds it; the others tried are put back. A compacted
 * index may list what others list too, and losing it loses nothing. The biggest first: the first
 * backup's lists the data every later snapshot shares. Undefined when no single loss matters.
 */
export async function loseIndexBlob(
  root: string,
  lost: string,
  unreadable: () => Promise<boolean>,
): Promise<BlobFile | undefined> {
  const candidates = (await blobFiles(root))
    .filter((f) => /^x[nsr]\d/.test(f.id))
    .sort((a, b) => b.size - a.size);
  for (const c of candidates) {
    renameSync(c.path, lost);
    if (await unreadable()) return c;
    renameSync(lost, c.path);
  }
  return undefined;
}
