import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliArgv } from "./cli.ts";

/**
 * A backup held mid-run (so it holds the host lock) for as long as a test needs: its unit's pre_backup
 * hook, written by `writeSlowHook`, sleeps while `<dir>/slow` exists and marks `<dir>/in-hook` once in.
 */
export function writeSlowHook(hook: string, dir: string): void {
  writeFileSync(hook, `#!/bin/sh\nif [ -f ${dir}/slow ]; then touch ${dir}/in-hook; sleep 60; fi\n`, {
    mode: 0o755,
  });
}

/** Starts `backup --unit <unit>` (the compiled binary), runs `body` once it is in the slow hook, stops it. */
export async function whileBackupHolds(
  dir: string,
  unit: string,
  config: string,
  body: (backup: { pid: number }) => Promise<void>,
): Promise<void> {
  writeFileSync(join(dir, "slow"), "");
  const backup = Bun.spawn([...cliArgv(), "backup", "--unit", unit, "--config", config], {
    env: { ...process.env, CI: "true" },
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    for (let i = 0; i < 600 && !existsSync(join(dir, "in-hook")); i++) await Bun.sleep(100);
    await body(backup);
  } finally {
    backup.kill("SIGTERM");
    await backup.exited;
    rmSync(join(dir, "slow"), { force: true });
    rmSync(join(dir, "in-hook"), { force: true });
  }
}
