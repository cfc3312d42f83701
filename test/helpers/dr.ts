import { expect } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, runCli } from "./cli.ts";
import { run, uniqueName } from "./env.ts";
import { terminal } from "./terminal.ts";

/** Debian's `age`, the tool a person opens a DR bundle with (scripts/test-env.sh installs it). */
export const hasAge =
  Bun.spawnSync(["age", "--version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;

/** `kopi-docka dr export` of `config` into `output`, the passphrase read from `passFile`. */
export function exportBundle(config: string, output: string, passFile: string) {
  return runCli(["dr", "export", "--config", config, "--output", output, "--passphrase-file", passFile]);
}

/**
 * Opens `bundle` with age, the passphrase typed on a terminal (age reads it from the tty only), and
 * unpacks it in `into` (created): the bundle's files are then under `<into>/kopi-docka-dr`.
 */
export async function openBundle(bundle: string, passphrase: string, into: string): Promise<void> {
  mkdirSync(into);
  const t = terminal(uniqueName("kdtdrage"));
  try {
    // As the bundle's instructions say: no decrypted tar is ever on disk.
    await t.start(`cd ${into} && age -d ${bundle} | tar -xf -`);
    await t.waitFor("passphrase");
    await Bun.sleep(300);
    await t.keys("-l", passphrase);
    await t.keys("Enter");
    expect(await t.waitFor("EXIT=")).toContain("EXIT=0");
  } finally {
    await t.kill();
  }
}

/**
 * Runs an opened bundle's `recover.sh --restore-all` as on a wiped host: the `kopi-docka` on PATH is
 * the built binary (a wrapper in `<scratch>/bin`), no TTY.
 */
export async function recoverAll(opened: string, scratch: string) {
  const bin = join(scratch, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "kopi-docka"), `#!/bin/sh\nexec ${BINARY} "$@"\n`);
  chmodSync(join(bin, "kopi-docka"), 0o755);
  return run(["sh", "recover.sh", "--restore-all"], {
    cwd: join(opened, "kopi-docka-dr"),
    check: false,
    env: { PATH: `${bin}:${process.env.PATH}`, CI: "true", NO_COLOR: "1" },
    timeoutMs: 300_000,
  });
}
