import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
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
  if (problem) throw new UsageError(`--binary ${path}: ${problem}`, "pass the installed kopi-docka binary");
  return path;
}

/** Why `path` cannot be the ExecStart binary, or undefined when it can. */
export function binaryProblem(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return "not a regular file";
    accessSync(path, constants.X_OK);
    return undefined;
  } catch (e) {
    const code = errnoCode(e);
    return code === "ENOENT" ? "does not exist" : code === "EACCES" ? "not executable" : String(e);
  }
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
