import { rmSync } from "node:fs";
import { join } from "node:path";
import { connectReadOnly } from "../dr/connect.ts";
import { createKopia } from "../kopia/kopia.ts";
import { makeTempDir } from "../process/temp-dirs.ts";
import type { OpenDeps } from "./open.ts";

export type PasswordTaken = "old" | "new" | "unknown";

/**
 * Which of two passwords the repository takes now, asked after `kopia repository change-password`
 * failed: kopia writes the new key before it can still fail (a timeout, a signal, a lost reply, the
 * close), so a failure does not mean nothing changed. Each password gets a read-only connection of
 * its own with an empty cache: kopia's cached format blob would answer for the old one for minutes.
 * "unknown": neither opened (a change cut between kopia's two format blobs) or the storage did not
 * answer; the caller then keeps both passwords.
 */
export async function passwordTaken(d: OpenDeps, old: string, next: string): Promise<PasswordTaken> {
  if (await opensWith(d, next)) return "new";
  if (await opensWith(d, old)) return "old";
  return "unknown";
}

async function opensWith(d: OpenDeps, password: string): Promise<boolean> {
  const dir = makeTempDir("password-probe");
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
    rmSync(dir, { recursive: true, force: true });
  }
}
