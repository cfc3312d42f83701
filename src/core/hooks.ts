import { lstatSync, realpathSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { AppError, ProcessError } from "./errors.ts";
import type { Runner } from "./process/runner.ts";

export type HookType = "pre_backup" | "post_backup" | "pre_restore" | "post_restore";

export interface HookRun {
  type: HookType;
  unit: string;
  runId: string;
  timeoutSec: number;
  signal?: AbortSignal;
  /** Extra KOPI_DOCKA_* variables (e.g. the backup id). Never a secret. */
  env?: Record<string, string>;
  onOutputLine?: (line: string) => void;
}

/**
 * Refuses a hook file others could have changed: it must be a regular executable file (not a
 * symlink), not group/world-writable, and owned by root or by the user running kopi-docka.
 */
export function checkHookFile(file: string): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(file);
  } catch {
    throw new AppError("config", `hook ${file} does not exist`);
  }
  const why = st.isSymbolicLink()
    ? "is a symlink"
    : !st.isFile()
      ? "is not a regular file"
      : (st.mode & 0o111) === 0
        ? "is not executable"
        : (st.mode & 0o022) !== 0
          ? "is writable by group or others"
          : st.uid !== 0 && st.uid !== process.getuid?.()
            ? "is owned by another user"
            : undefined;
  if (why) throw new AppError("config", `hook ${file} ${why}`, { hint: "chown root and chmod 0755 it" });
  checkHookDirs(file);
}

/**
 * Whoever can write a directory on the way to the hook can swap the hook (or a directory above it):
 * every directory from the hook's up to `/` (symlinks resolved) must be owned by root (or the user
 * running kopi-docka) and not group/world-writable. A root-owned sticky directory such as /tmp is
 * allowed: there nobody else can rename or remove the entries they do not own.
 */
export function checkHookDirs(file: string): void {
  let dir: string;
  try {
    dir = realpathSync(dirname(resolve(file)));
  } catch {
    throw new AppError("config", `the directory of hook ${file} cannot be resolved`);
  }
  for (;;) {
    const st = statSync(dir);
    const owner = st.uid === 0 || st.uid === process.getuid?.();
    const sticky = (st.mode & 0o1000) !== 0 && st.uid === 0;
    const why = !owner
      ? "is owned by another user"
      : (st.mode & 0o022) !== 0 && !sticky
        ? "is writable by group or others"
        : undefined;
    if (why) {
      throw new AppError(
        "config",
        `hook ${file}: its directory ${dir} ${why}, so the hook could be replaced`,
        {
          hint: `chown root ${dir} and chmod go-w it, or keep hooks in a root-owned directory such as /etc/kopi-docka/hooks`,
        },
      );
    }
    const up = dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

/**
 * Runs one hook through the runner, argv only, with KOPI_DOCKA_HOOK_TYPE / KOPI_DOCKA_UNIT_NAME /
 * KOPI_DOCKA_RUN_ID in its environment, killed after `timeoutSec`. Throws AppError on any failure.
 */
export async function runHook(runner: Runner, file: string, h: HookRun): Promise<void> {
  checkHookFile(file);
  try {
    await runner.run([file], {
      env: {
        ...h.env,
        KOPI_DOCKA_HOOK_TYPE: h.type,
        KOPI_DOCKA_UNIT_NAME: h.unit,
        KOPI_DOCKA_RUN_ID: h.runId,
        KOPIA_PASSWORD: undefined,
      },
      timeoutMs: h.timeoutSec * 1000,
      signal: h.signal,
      onStdoutLine: h.onOutputLine,
      onStderrLine: h.onOutputLine,
    });
  } catch (e) {
    const detail = e instanceof ProcessError ? e.message.replace(/^`[^`]*` /, "") : String(e);
    throw new AppError("process_failed", `${h.type} hook ${file} failed: ${detail}`, { cause: e });
  }
}
