import { join } from "node:path";
import { connectReadOnly } from "../dr/connect.ts";
import { createKopia } from "../kopia/kopia.ts";
import { ownedTempDir } from "../process/temp-dirs.ts";
import type { Lifecycle } from "../safe-exit.ts";
import type { OpenDeps } from "./open.ts";

/** What the probe needs: the repository, and the lifecycle its temp dirs' removal is registered with. */
export type ProbeDeps = OpenDeps & { lifecycle: Pick<Lifecycle, "register" | "signal"> };

export type PasswordTaken = "old" | "new" | "unknown";

/**
 * Which of two passwords the repository takes now, asked after `kopia repository change-password`
 * failed: kopia writes the new key before it can still fail (a timeout, a signal, a lost reply, the
 * close), so a failure does not mean nothing changed. Each password gets a read-only connection of
 * its own with an empty cache: kopia's cached format blob would answer for the old one for minutes.
 * "unknown": neither opened (a change cut between kopia's two format blobs) or the storage did not
 * answer; the caller then keeps both passwords.
 */
export async function passwordTaken(d: ProbeDeps, old: string, next: string): Promise<PasswordTaken> {
  if (await opensWith(d, next)) return "new";
  // The run is ending on a signal: no second kopia is started, and both passwords are kept.
  if (d.lifecycle.signal.aborted) return "unknown";
  if (await opensWith(d, old)) return "old";
  return "unknown";
}

/**
 * Whether a read-only connection opens with `password`. Its kopia config sits in an owned temp dir:
 * removed however the run ends, a signal during the connect included.
 */
async function opensWith(d: ProbeDeps, password: string): Promise<boolean> {
  const { dir, remove } = ownedTempDir(d.lifecycle, "password-probe");
  try {
    const kopia = createKopia(d.runner, {
      ...d.kopia.options,
      configFile: join(dir, "kopia.config"),
      cacheDir: join(dir, "cache"),
      password: () => password,
    });
    await connectReadOnly(kopia, d.config.repository, { runner: d.runner });
    return true;
  } catch {
    return false;
  } finally {
    await remove();
  }
}
