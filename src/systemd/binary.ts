import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { errnoCode } from "../core/caught.ts";
import { UsageError } from "../core/errors.ts";

export interface RunningBinary {
  /** True in the `bun build --compile` binary, false under `bun src/cli.ts`. */
  standalone: boolean;
  /** The real path (symlinks resolved by the kernel). */
  execPath: string;
  /** $PATH, to find the name the binary is installed under. */
  path?: string;
}

const running: RunningBinary = {
  standalone: Bun.isStandaloneExecutable,
  execPath: process.execPath,
  path: process.env.PATH,
};

/**
 * The absolute path the service will run: --binary, else this very binary. Under `bun src/cli.ts`
 * execPath is bun itself, which must never end up in ExecStart. A path that is missing or not
 * executable is refused now rather than found out at 02:00.
 */
export function resolveBinary(flag: string | undefined, self: RunningBinary = running): string {
  if (!flag && !self.standalone) {
    throw new UsageError(
      "kopi-docka runs from source here, so there is no binary to put into the service",
      "pass --binary with the installed binary, e.g. --binary /usr/local/bin/kopi-docka",
    );
  }
  const path = flag ? resolve(flag) : installedName(self);
  const problem = binaryProblem(path);
  if (problem)
    throw new UsageError(
      `--binary ${path}: ${problem}`,
      "install it where only root can change it (install -m 0755 FILE /usr/local/bin/kopi-docka), then pass that",
    );
  return path;
}

/**
 * Why `path` cannot be the ExecStart binary, or undefined when it can. Root runs it every night: a
 * file, or a directory on its way, that another user can change would give that user root.
 */
export function binaryProblem(path: string, uid = process.getuid?.()): string | undefined {
  try {
    if (!statSync(path).isFile()) return "not a regular file";
    accessSync(path, constants.X_OK);
    return uid === 0 ? notRootsAlone(path) : undefined;
  } catch (e) {
    const code = errnoCode(e);
    return code === "ENOENT" ? "does not exist" : code === "EACCES" ? "not executable" : String(e);
  }
}

/** The file, or a directory holding it (or the link to it), that a user other than root may change. */
function notRootsAlone(path: string): string | undefined {
  const file = statSync(path);
  if (file.uid !== 0) return `owned by uid ${file.uid}, who could replace what root runs every night`;
  if (file.mode & 0o022) return "writable by users other than root";
  for (const start of new Set([dirname(resolve(path)), dirname(realpathSync(path))]))
    for (let dir = start; ; dir = dirname(dir)) {
      const d = statSync(dir);
      const sticky = (d.mode & 0o1000) !== 0;
      const othersWrite = (d.mode & 0o002) !== 0 || ((d.mode & 0o020) !== 0 && d.gid !== 0);
      if (d.uid !== 0 || (othersWrite && !sticky))
        return `its directory ${dir} can be changed by users other than root, who could swap the file root runs every night`;
      if (dir === "/") break;
    }
  return undefined;
}

/**
 * execPath is the resolved file. When `kopi-docka` on PATH is a symlink to it (say to a versioned
 * file), the unit gets the link, so an upgrade that moves the link is picked up by the next run.
 */
function installedName(self: RunningBinary): string {
  for (const dir of (self.path ?? "").split(delimiter)) {
    if (!dir.startsWith("/")) continue;
    const candidate = join(dir, "kopi-docka");
    try {
      if (realpathSync(candidate) === self.execPath) return candidate;
    } catch {
      // not there
    }
  }
  return self.execPath;
}
