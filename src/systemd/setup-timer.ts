import { AppError } from "../core/errors.ts";
import { readOurUnits } from "./files.ts";

/** Where systemd reads an admin's units, and `systemd install` writes them by default. */
export const UNIT_DIR = "/etc/systemd/system";

/**
 * The `systemd install` that `setup` runs for the schedule it was given. Units kopi-docka wrote before
 * (install.sh's default timer, an earlier setup) are replaced, each old file kept as a .bak: without
 * --force they were a conflict, setup only warned, and the old timer kept stopping the containers at
 * the hour the admin had just moved them away from. A unit someone else wrote is never replaced.
 */
export function setupTimerArgv(self: readonly string[], configPath: string, unitDir = UNIT_DIR): string[] {
  const force = readOurUnits(unitDir).foreign.length === 0 ? ["--force"] : [];
  return [...self, "systemd", "install", "--config", configPath, "--unit-dir", unitDir, ...force];
}

/** Setup wrote its config, but the schedule it was asked for does not run: not a success. */
export function setupDoneTimerFailed(reason: string, configPath: string): AppError {
  return new AppError(
    "check_failed",
    `setup is done (config, repository, password file), but the nightly timer was not installed: ${reason}`,
    {
      hint: `fix that, then run \`kopi-docka systemd install --config ${configPath}\` (--force replaces a unit someone else wrote, keeping a .bak)`,
    },
  );
}
