import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../errors.ts";
import { createKopia } from "../kopia/kopia.ts";
import type { Runner } from "../process/runner.ts";

export interface SelftestResult {
  ok: true;
  files: number;
  bytes: number;
  durationMs: number;
}

/**
 * `repo selftest`: kopia on this machine, end to end, without touching the configured repository: a
 * throwaway filesystem repository under `scratchDir`, a snapshot of a few files, a restore, the bytes
 * and modes compared; everything removed afterwards, whatever happened.
 */
export async function selftest(d: {
  runner: Runner;
  scratchDir: string;
  /** The kopia that runs (`kopia.binary`); default "kopia" on PATH. */
  binary?: () => Promise<string>;
}): Promise<SelftestResult> {
  const started = performance.now();
  mkdirSync(d.scratchDir, { recursive: true, mode: 0o700 });
  const dir = mkdtempSync(join(d.scratchDir, "selftest-"));
  try {
    const password = randomBytes(24).toString("base64url");
    const kopia = createKopia(d.runner, {
      configFile: join(dir, "repository.config"),
      cacheDir: join(dir, "cache"),
      logDir: join(dir, "logs"),
      password: () => password,
      hostname: "selftest",
      username: "kopi-docka",
      binary: d.binary,
    });
    const source = join(dir, "source");
    const files = [
      { name: "random.bin", data: randomBytes(1_500_000), mode: 0o640 },
      { name: "text.txt", data: Buffer.from("kopi-docka selftest\n"), mode: 0o600 },
      { name: "sub/empty", data: Buffer.alloc(0), mode: 0o644 },
    ];
    for (const f of files) {
      mkdirSync(join(source, f.name, ".."), { recursive: true });
      writeFileSync(join(source, f.name), f.data);
      chmodSync(join(source, f.name), f.mode);
    }
    mkdirSync(join(dir, "repo"));
    await kopia.create(["filesystem", "--path", join(dir, "repo")]);
    const manifest = await kopia.snapshotCreate(source);
    const target = join(dir, "restored");
    await kopia.snapshotRestore(manifest.id, target);
    for (const f of files) {
      const back = join(target, f.name);
      if (!readFileSync(back).equals(f.data) || (statSync(back).mode & 0o777) !== f.mode)
        throw new AppError("check_failed", `selftest: ${f.name} came back different from what was saved`, {
          hint: "kopia on this machine does not round-trip data: check its version (`kopi-docka version`)",
        });
    }
    return {
      ok: true,
      files: files.length,
      bytes: files.reduce((n, f) => n + f.data.length, 0),
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
