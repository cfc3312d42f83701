import { errorMessage } from "../caught.ts";
import type { Runner } from "../process/runner.ts";
import type { MadeAfter, SnapshotIdentity } from "./driver.ts";
import { FsSnapshotError } from "./errors.ts";

/** Bound of every btrfs-progs call. */
export const TIMEOUT_MS = 60_000;
/** Below every subvolume id (BTRFS_FIRST_FREE_OBJECTID is 256): a filesystem with none is newer than it. */
const NO_SUBVOLUME = 255;

/** One subvolume as `btrfs subvolume show` (or `list -q -u`) describes it. */
export interface Subvolume {
  id: number;
  uuid: string;
  /** The UUID of the subvolume it is a snapshot of; undefined for none. */
  parentUuid: string | undefined;
  generation: number;
  /** `list` only: its path from the filesystem's top level, up to a line break in a name. */
  path?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * `btrfs subvolume show`: the subvolume's id, UUIDs and generation. Its path and name head the text,
 * and a name may hold a newline and whole fake lines: a field found twice is no answer.
 */
export function parseShow(text: string): Subvolume | undefined {
  const field = (name: string) => {
    const all = [...text.matchAll(new RegExp(`^\\s*${name}:[ \\t]*(.*?)[ \\t]*$`, "gm"))];
    return all.length === 1 ? all[0]?.[1] : undefined;
  };
  const id = Number(field("Subvolume ID"));
  const generation = Number(field("Generation"));
  const uuid = field("UUID");
  const parent = field("Parent UUID");
  // 5: the top level (a volume may be it); every other subvolume's id is 256 or more.
  if (!(id === 5 || id >= 256) || !Number.isInteger(generation) || !uuid || !UUID.test(uuid))
    return undefined;
  if (parent === undefined) return undefined;
  return { id, uuid, parentUuid: UUID.test(parent) ? parent : undefined, generation };
}

/**
 * `btrfs subvolume list -q -u`: one line per subvolume, its path last. A name holding a newline can
 * add lines, never hide one: callers take a subvolume listed twice as no answer.
 */
export function parseList(text: string): Subvolume[] {
  const line = /^ID (\d+) gen (\d+) top level \d+ parent_uuid (\S+) +uuid (\S+) path (.*)$/gm;
  return [...text.matchAll(line)].map((m) => ({
    id: Number(m[1]),
    generation: Number(m[2]),
    parentUuid: UUID.test(m[3] ?? "") ? m[3] : undefined,
    uuid: m[4] ?? "",
    path: m[5] ?? "",
  }));
}

/** Every subvolume of the filesystem mounted at `mount` (read-only ones only with `readonly`). */
export async function listSubvolumes(runner: Runner, mount: string, readonly: boolean): Promise<Subvolume[]> {
  const argv = ["btrfs", "subvolume", "list", ...(readonly ? ["-r"] : []), "-q", "-u", mount];
  return parseList((await runner.run(argv, { timeoutMs: TIMEOUT_MS })).stdout);
}

/**
 * The one snapshot of `made.volumeUuid` newer than the mark among `listed`: the one `create` made
 * (found by what btrfs knows of it, never by its path, which a container seeing the volume's root
 * can swap). None: undefined. More than one (someone snapshotted the volume meanwhile): no answer.
 */
export function madeAfter(listed: readonly Subvolume[], made: Pick<MadeAfter, "volumeUuid" | "newerThan">) {
  const found = listed.filter((s) => s.id > made.newerThan && s.parentUuid === made.volumeUuid);
  if (found.length > 1)
    throw new FsSnapshotError(
      `${found.length} snapshots of ${made.volumeUuid} are newer than subvolume ${made.newerThan} (${found.map((s) => s.id).join(", ")}): which one this run made cannot be told`,
    );
  return found[0];
}

/** Subvolume `id` among `listed`; undefined when absent, no answer when listed twice. */
export function listedAs(listed: readonly Subvolume[], id: number): Subvolume | undefined {
  const found = listed.filter((s) => s.id === id);
  if (found.length > 1)
    throw new FsSnapshotError(`btrfs lists subvolume ${id} twice (a name with a line break?)`);
  return found[0];
}

/**
 * The highest subvolume id of the filesystem mounted at `mount`: ids only grow, so a snapshot made
 * after this has a higher one. Read from the first line alone (sorted highest first): names, which
 * may hold newlines, come at the end of a line.
 */
export async function newestSubvolume(runner: Runner, mount: string): Promise<number> {
  const list = await runner.run(["btrfs", "subvolume", "list", "--sort=-rootid", mount], {
    timeoutMs: TIMEOUT_MS,
  });
  const first = /^ID (\d+) /.exec(list.stdout)?.[1];
  return first === undefined ? NO_SUBVOLUME : Number(first);
}

/**
 * Deletes subvolume `id` of the filesystem mounted at `mount` (the kernel finds it by id: no path
 * under a directory others write to is followed), once btrfs lists that id with the UUID recorded
 * at creation. Gone already: nothing to do (false). The mount not there (an unmounted disk): an
 * error, so the journal entry stays for the next recovery.
 */
export async function removeById(runner: Runner, snapshot: string, s: SnapshotIdentity): Promise<boolean> {
  let now: Subvolume | undefined;
  try {
    now = listedAs(await listSubvolumes(runner, s.mount, false), s.id);
  } catch (e) {
    throw new FsSnapshotError(`refusing to remove ${snapshot}: ${errorMessage(e)}`, e);
  }
  if (!now) return false;
  if (now.uuid !== s.uuid)
    throw new FsSnapshotError(
      `refusing to remove ${snapshot}: subvolume ${s.id} on ${s.mount} is not the snapshot made (UUID ${now.uuid})`,
    );
  try {
    await runner.run(["btrfs", "subvolume", "delete", "--subvolid", String(s.id), s.mount], {
      timeoutMs: TIMEOUT_MS,
    });
    return true;
  } catch (e) {
    throw new FsSnapshotError(`btrfs could not delete ${snapshot}: ${errorMessage(e)}`, e);
  }
}

/**
 * Subvolumes directly inside `volume`, as paths relative to it, and `volume`'s own UUID. `btrfs
 * subvolume list -o` names them from the filesystem's top level; `subvolume show`'s first line is
 * `volume`'s own path from there ("/" for the top level itself).
 */
export async function nestedSubvolumes(
  runner: Runner,
  volume: string,
): Promise<{ uuid: string | undefined; nested: string[] }> {
  const show = await runner.run(["btrfs", "subvolume", "show", volume], { timeoutMs: TIMEOUT_MS });
  const self = (show.stdout.split("\n")[0] ?? "").trim().replace(/^\/+|\/+$/g, "");
  const list = await runner.run(["btrfs", "subvolume", "list", "-o", volume], { timeoutMs: TIMEOUT_MS });
  const nested: string[] = [];
  for (const line of list.stdout.split("\n")) {
    const m = /\bpath (.+)$/.exec(line.trim());
    if (!m?.[1]) continue;
    const path = m[1].replace(/^<FS_TREE>\//, "");
    if (self === "") nested.push(path);
    else if (path.startsWith(`${self}/`)) nested.push(path.slice(self.length + 1));
  }
  return { uuid: parseShow(show.stdout)?.uuid, nested };
}
