import { AppError } from "../core/errors.ts";
import { readUnit } from "./files.ts";
import { FRESHNESS_SERVICE, FRESHNESS_TIMER } from "./freshness-units.ts";
import { SERVICE_UNIT, TIMER_UNIT } from "./units.ts";

/** Where systemd reads an admin's units, and `systemd install` writes them by default. */
export const UNIT_DIR = "/etc/systemd/system";

/** The units kopi-docka writes that exist in `dir` without its marker: someone else wrote them. */
export function foreignUnits(dir: string): string[] {
  return [SERVICE_UNIT, TIMER_UNIT, FRESHNESS_SERVICE, FRESHNESS_TIMER]
    .map((name) => readUnit(dir, name))
    .filter((u) => u.text !== undefined && !u.ours)
    .map((u) => u.path);
}

/**
 * The `systemd install` that `setup` runs for the schedule it was given. Units kopi-docka wrote before
 * (install.sh's default timer, an earlier setup) are replaced, each old file kept as a .bak: without
 * --force they were a conflict, setup only warned, and the old timer kept stopping the containers at
 * the hour the admin had just moved them away from. A unit someone else wrote is never replaced.
 */
export function setupTimerArgv(self: readonly string[], configPath: string, unitDir = UNIT_DIR): string[] {
  const force = foreignUnits(unitDir).length === 0 ? ["--force"] : [];
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
