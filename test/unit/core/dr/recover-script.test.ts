import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { bundleEntries } from "../../../../src/core/dr/contents.ts";
import type { EnvSecret } from "../../../../src/core/dr/model.ts";
import { tempDir } from "../../../helpers/env.ts";
import { bundleInput } from "./fixtures.ts";

const unit = (name: string) => ({
  unit: name,
  host: "old-host",
  point: `${name}@b1`,
  backupId: "b1",
  timestamp: "2026-01-01T00:00:00Z",
  volumes: [],
  sizeBytes: 1,
});

/** The bundle unpacked under `dir`, its files pointing back into `dir/host` (the "new host"). */
function unpacked(dir: string, env: EnvSecret[] = []): string {
  const host = join(dir, "host");
  const input = bundleInput({
    configPath: join(host, "etc", "config.toml"),
    passwordFile: join(host, "repository.password"),
    carried: [],
    env,
    units: ["alpha", "broken", "gamma"].map(unit),
  });
  for (const e of bundleEntries(input)) {
    const path = join(dir, e.name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, e.data, { mode: e.mode });
  }
  return join(dir, "kopi-docka-dr");
}

/** A `kopi-docka` on PATH that logs each call and fails the restore of unit "broken". */
function fakeKopiDocka(dir: string): { bin: string; log: string } {
  const bin = join(dir, "bin");
  const log = join(dir, "calls.log");
  mkdirSync(bin);
  writeFileSync(
    join(bin, "kopi-docka"),
    `#!/bin/sh\n[ "$1" = --version ] && { echo 9.9.9; exit 0; }\necho "$*" >> '${log}'\nmkdir -p '${dir}/made-by-restore/project'\necho "S3_SECRET=$S3_SECRET PATH=$PATH" >> '${log}.env'\ncase "$*" in *"--unit broken "*) echo "restore failed: no space" >&2; exit 3 ;; esac\n`,
  );
  chmodSync(join(bin, "kopi-docka"), 0o755);
  return { bin, log };
}

test("recover.sh is POSIX sh", () => {
  const dir = tempDir("kd-recover-sh-");
  const r = Bun.spawnSync(["sh", "-n", join(unpacked(dir.path), "recover.sh")]);
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
  dir.remove();
});

test("--restore-all tries every unit past a failed one, lists the failed ones and exits 1", () => {
  const dir = tempDir("kd-recover-all-");
  const bundle = unpacked(dir.path);
  const fake = fakeKopiDocka(dir.path);
  const r = Bun.spawnSync(["sh", "recover.sh", "--restore-all"], {
    cwd: bundle,
    env: { PATH: `${fake.bin}:${process.env.PATH}` },
  });
  const stderr = r.stderr.toString();
  const restored = readFileSync(fake.log, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("restore "))
    .map((l) => /--unit (\S+)/.exec(l)?.[1]);
  expect(restored).toEqual(["alpha", "broken", "gamma"]);
  expect(stderr).toContain("restore of broken failed (exit 3)");
  expect(stderr).toContain("Not restored: broken\n");
  expect(stderr).toContain("--unit broken --latest --start --yes");
  expect(stderr).not.toContain("--unit alpha");
  expect(r.exitCode).toBe(1);
  dir.remove();
});

describe("recover.sh finds this kopi-docka, not another of that name", () => {
  test("one on PATH that is no kopi-docka of this kind (the Python one): refused, nothing put in place", () => {
    const dir = tempDir("kd-recover-other-");
    const bundle = unpacked(dir.path);
    const bin = join(dir.path, "python-bin");
    mkdirSync(bin);
    writeFileSync(
      join(bin, "kopi-docka"),
      "#!/bin/sh\necho 'Usage: kopi-docka [OPTIONS] COMMAND' >&2\nexit 2\n",
    );
    chmodSync(join(bin, "kopi-docka"), 0o755);
    const r = Bun.spawnSync(["sh", "recover.sh"], {
      cwd: bundle,
      env: { PATH: `${bin}:${process.env.PATH}` },
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toContain(
      `${join(bin, "kopi-docka")} is not this kopi-docka (an older Python Kopi-Docka?)`,
    );
    expect(existsSync(join(dir.path, "host", "etc", "config.toml"))).toBe(false);
    dir.remove();
  });

  test("KOPI_DOCKA names the binary to run; what the restores create is not owner-only", () => {
    const dir = tempDir("kd-recover-named-");
    const bundle = unpacked(dir.path);
    const fake = fakeKopiDocka(dir.path);
    const r = Bun.spawnSync(["sh", "recover.sh", "--restore-all"], {
      cwd: bundle,
      env: { PATH: process.env.PATH ?? "", KOPI_DOCKA: join(fake.bin, "kopi-docka") },
    });
    expect(r.stderr.toString()).toContain("restore of broken failed (exit 3)");
    expect(readFileSync(fake.log, "utf8")).toContain("restore --config");
    // Secrets stay 0600; a project directory a restore makes is as a fresh one would be.
    expect(statSync(join(dir.path, "host", "etc", "config.toml")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir.path, "made-by-restore", "project")).mode & 0o777).toBe(0o755);
    dir.remove();
  });
});

describe("recover.sh and secrets/env (the bundle is untrusted once handed over)", () => {
  const secret = "it's\n$(touch pwned) `x`";
  const env = [{ key: "repository.secret_access_key_env", variable: "S3_SECRET", value: secret }];

  test("exports the listed variable with its value, verbatim", () => {
    const dir = tempDir("kd-recover-env-");
    const bundle = unpacked(dir.path, env);
    const fake = fakeKopiDocka(dir.path);
    const r = Bun.spawnSync(["sh", "recover.sh"], {
      cwd: bundle,
      env: { PATH: `${fake.bin}:/usr/bin:/bin` },
    });
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    expect(readFileSync(`${fake.log}.env`, "utf8")).toBe(
      `S3_SECRET=${secret} PATH=${fake.bin}:/usr/bin:/bin\n`,
    );
    expect(existsSync(join(bundle, "pwned"))).toBe(false);
    dir.remove();
  });

  test.each([
    ["an unlisted variable", "PATH='/evil'\n"],
    ["a command", "S3_SECRET='x'$(touch pwned)\n"],
    ["a second assignment on the line", "S3_SECRET='x' LD_PRELOAD='/evil.so'\n"],
    ["a double-quoted value", 'S3_SECRET="$(touch pwned)"\n'],
  ])(
    "a secrets/env with %s (SHA256SUMS made to match) is refused before anything is put back: exit 1",
    (_name, text) => {
      const dir = tempDir("kd-recover-env-");
      const bundle = unpacked(dir.path, env);
      const fake = fakeKopiDocka(dir.path);
      writeFileSync(join(bundle, "secrets/env"), text);
      const sums = readFileSync(join(bundle, "SHA256SUMS"), "utf8").replace(
        /^\S+(?= {2}secrets\/env$)/m,
        createHash("sha256").update(text).digest("hex"),
      );
      writeFileSync(join(bundle, "SHA256SUMS"), sums);
      const r = Bun.spawnSync(["sh", "recover.sh"], {
        cwd: bundle,
        env: { PATH: `${fake.bin}:/usr/bin:/bin` },
      });
      expect(r.stderr.toString()).toContain(
        "secrets/env holds more than the quoted values of S3_SECRET: not read",
      );
      expect(r.exitCode).toBe(1);
      expect(existsSync(fake.log)).toBe(false);
      expect(existsSync(join(dir.path, "host"))).toBe(false);
      expect(existsSync(join(bundle, "pwned"))).toBe(false);
      dir.remove();
    },
  );
});
