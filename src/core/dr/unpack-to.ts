import {
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { errnoCode } from "../caught.ts";
import { fsyncDir } from "../durable.ts";
import { AppError, UsageError } from "../errors.ts";
import { isProcessAlive } from "../lock/owner.ts";
import { type Lifecycle, PRIORITY } from "../safe-exit.ts";
import { openBundle } from "./open.ts";

export interface UnpackRequest {
  /** The bundle (.age). */
  file: string;
  passphrase: string;
  /** Where its files go: created 0700; an existing directory must be empty. */
  to: string;
}

export interface UnpackResult {
  dir: string;
  host: string;
  created: string;
  /** Paths inside `dir`, in bundle order. */
  files: string[];
  /** What to run next on this host (as root). */
  next: string;
}

/** One file to write: its absolute path and mode. */
export interface PlannedFile {
  name: string;
  path: string;
  mode: number;
}

/**
 * Where each bundle file goes under `dir`, and its mode: recover.sh 0700 (its owner runs it), every
 * other file 0600 (the bundle is mostly secrets; nobody else needs any of it). Pure. unpackBundle has
 * already refused `..` and absolute names; a name that still resolves outside `dir` is refused here
 * too, because the bundle is untrusted input.
 */
export function planBundleFiles(dir: string, names: Iterable<string>): PlannedFile[] {
  const root = resolve(dir);
  return [...names].map((name) => {
    const path = resolve(root, name);
    const rel = relative(root, path);
    if (!rel || rel.startsWith("..") || rel.startsWith(sep) || rel.split(sep).includes(".."))
      throw new AppError("check_failed", `the bundle holds an unexpected path: ${JSON.stringify(name)}`);
    return { name, path, mode: name === "recover.sh" ? 0o700 : 0o600 };
  });
}

/** The target must not exist, or be an empty directory: an opened bundle never mixes with other files. */
function checkTarget(dir: string): void {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`${dir} exists and is not a directory`);
    entries = readdirSync(dir);
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return;
    throw e;
  }
  if (entries.length)
    throw new UsageError(`${dir} is not empty`, "choose a new --to directory; nothing is ever overwritten");
}

function writeFile(path: string, data: Uint8Array, mode: number): void {
  const fd = openSync(path, "wx", mode);
  try {
    fchmodSync(fd, mode); // exact mode whatever the umask
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The temp directories of earlier runs for the same target whose process is gone (SIGKILL, power
 * loss: no compensation ran). They hold decrypted secrets; a live run's is left alone.
 */
function sweepDeadTemps(parent: string, prefix: string): void {
  for (const name of readdirSync(parent)) {
    const pid = name.startsWith(prefix) ? Number(name.slice(prefix.length)) : Number.NaN;
    if (Number.isInteger(pid) && String(pid) === name.slice(prefix.length) && !isProcessAlive(pid))
      rmSync(join(parent, name), { recursive: true, force: true });
  }
}

/**
 * Opens a bundle on a host that has nothing but this binary: decrypts it, checks every file against
 * SHA256SUMS and the manifest (as `dr drill` does) all in memory, and only then writes the files into
 * `to`. They are written into a private temp directory beside it (0700, files 0600, recover.sh 0700)
 * that is renamed to `to` at the end; a failure or a signal removes the temp directory (a lifecycle
 * compensation), so an interrupted run leaves no half bundle, and one a killed run left is removed by
 * the next run for the same target. A wrong passphrase or a damaged bundle
 * writes nothing at all.
 */
export async function unpackBundleTo(
  ctx: { lifecycle: Lifecycle },
  req: UnpackRequest,
): Promise<UnpackResult> {
  const dir = resolve(req.to);
  checkTarget(dir);
  let cipher: Uint8Array;
  try {
    cipher = new Uint8Array(readFileSync(req.file));
  } catch (e) {
    throw new UsageError(`cannot read the bundle ${req.file} (${errnoCode(e)})`);
  }
  const bundle = await openBundle(cipher, req.passphrase);
  ctx.lifecycle.throwIfInterrupted();
  const planned = planBundleFiles(dir, bundle.files.keys());

  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const tmpPrefix = `.${dir.slice(parent.length + 1)}.tmp-`;
  sweepDeadTemps(parent, tmpPrefix);
  const tmp = join(parent, `${tmpPrefix}${process.pid}`);
  mkdirSync(tmp, { mode: 0o700 });
  const removeTmp = ctx.lifecycle.register(`remove the half-opened bundle ${tmp}`, PRIORITY.cleanup, () =>
    rmSync(tmp, { recursive: true, force: true }),
  );
  try {
    for (const f of planBundleFiles(tmp, bundle.files.keys())) {
      ctx.lifecycle.throwIfInterrupted();
      mkdirSync(dirname(f.path), { recursive: true, mode: 0o700 });
      writeFile(f.path, bundle.files.get(f.name) ?? new Uint8Array(), f.mode);
    }
    checkTarget(dir); // nothing appeared meanwhile; rename replaces only an empty directory
    renameSync(tmp, dir);
    removeTmp.dismiss();
    fsyncDir(parent);
  } catch (e) {
    await removeTmp.run();
    throw e;
  }
  const m = bundle.manifest;
  return {
    dir,
    host: m.host,
    created: m.created,
    files: planned.map((f) => f.name),
    next: join(dir, "recover.sh"),
  };
}
