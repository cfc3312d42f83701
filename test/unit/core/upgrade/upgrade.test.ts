import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createConsola } from "consola";
import { DEFAULT_CONFIG_PATH } from "../../../../src/config/load.ts";
import { acquireLock } from "../../../../src/core/lock/acquire.ts";
import { configsToCheck } from "../../../../src/core/upgrade/configs.ts";
import { previousPath, stagedPath } from "../../../../src/core/upgrade/replace.ts";
import { rollback, type UpgradeRequest, upgrade } from "../../../../src/core/upgrade/upgrade.ts";
import { installedParams } from "../../../../src/systemd/parse.ts";
import { renderServiceUnit } from "../../../../src/systemd/units.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";

// `install.sh --config /srv/kd.toml` writes that path into the services' ExecStart. A later plain
// `kopi-docka upgrade` finds no file at the default path, so it used to check no config at all, and
// the timer went on to run a binary that rejects its config every night.
const dir = tempDir("kd-upgrade-");
afterAll(() => dir.remove());

const target = join(dir.path, "bin", "kopi-docka");
const newFile = join(dir.path, "media", "kopi-docka-linux-x64");
const srvConfig = join(dir.path, "srv dir", "kd.toml");
const lockFile = join(dir.path, "kopi-docka.lock");
/** The lock the services' config names: not the one of the config this command read. */
const srvLock = join(dir.path, "srv dir", "kd.lock");

/** The installed service as `systemd install --config` writes it, read back the way `upgrade` reads it. */
const serviceNaming = (config: string) => ({
  unit: "/etc/systemd/system/kopi-docka-backup.service",
  configPath: installedParams(renderServiceUnit({ binary: target, configPath: config }), undefined)
    .configPath,
});

function logged() {
  const lines: string[] = [];
  const log = createConsola({ reporters: [{ log: (l) => lines.push(`${l.type} ${l.args.join(" ")}`) }] });
  return { log, lines };
}

const request = (services: UpgradeRequest["services"]): UpgradeRequest => ({
  target,
  source: { kind: "file", path: newFile },
  lockFile,
  dryRun: false,
  services,
});

const staged = stagedPath(target);
const runs = (exitCode: number) => [
  { argv: [staged, "--version"], stdout: "9.9.9\n" },
  {
    argv: [staged, "config", "validate", "--config", srvConfig],
    exitCode,
    stderr: exitCode ? `${srvConfig}:3 backup.scope: unknown key\n` : "",
  },
];

beforeEach(() => {
  for (const d of ["bin", "media", "srv dir"]) mkdirSync(join(dir.path, d), { recursive: true });
  writeFileSync(target, "old binary", { mode: 0o755 });
  writeFileSync(newFile, "new binary");
  writeFileSync(srvConfig, `[backup]\n\n[paths]\nlock_file = "${srvLock}"\n`);
});

describe("upgrade checks the config the installed services read", () => {
  test("a config named in ExecStart that the new binary rejects: refused, nothing changes", async () => {
    const runner = new FakeRunner(runs(2));
    const { log } = logged();
    const p = upgrade(request([serviceNaming(srvConfig)]), { runner, log, current: "1.0.0" });
    await expect(p).rejects.toThrow(`the new binary rejects ${srvConfig}: nothing was changed`);
    await expect(p).rejects.toThrow("backup.scope: unknown key");
    expect(runner.remaining).toBe(0);
    expect(readFileSync(target, "utf8")).toBe("old binary");
    expect(readdirSync(join(dir.path, "bin"))).toEqual(["kopi-docka"]);
  });

  test("one it accepts: the binary is replaced", async () => {
    const runner = new FakeRunner(runs(0));
    const { log } = logged();
    const r = await upgrade(request([serviceNaming(srvConfig)]), { runner, log, current: "1.0.0" });
    expect(runner.remaining).toBe(0);
    expect(r.installed).toBe("9.9.9");
    expect(readFileSync(target, "utf8")).toBe("new binary");
  });

  test("no config anywhere to check: a warning says so", async () => {
    const runner = new FakeRunner([{ argv: [staged, "--version"], stdout: "9.9.9\n" }]);
    const { log, lines } = logged();
    await upgrade(request([]), { runner, log, current: "1.0.0" });
    expect(lines.some((l) => l.startsWith("warn no config file found to check the new binary"))).toBe(true);
    expect(existsSync(staged)).toBe(false);
  });
});

describe("upgrade holds the lock of the config the installed services read", () => {
  test("a backup holding that lock (not this command's): refused, nothing runs or changes", async () => {
    const backup = await acquireLock(srvLock, { runId: "nightly", command: "backup" });
    try {
      const runner = new FakeRunner([]); // strict: not even the new binary's --version may run
      const { log } = logged();
      const p = upgrade(request([serviceNaming(srvConfig)]), { runner, log, current: "1.0.0" });
      await expect(p).rejects.toMatchObject({ code: "locked" });
      await expect(p).rejects.toThrow(`holds the lock ${srvLock}`);
      expect(runner.calls).toEqual([]);
      expect(readFileSync(target, "utf8")).toBe("old binary");
      expect(existsSync(lockFile)).toBe(false); // this command's own lock, taken first, was released
    } finally {
      backup.release();
    }
  });

  test("--rollback likewise", async () => {
    writeFileSync(previousPath(target), "previous binary");
    const backup = await acquireLock(srvLock, { runId: "nightly", command: "backup" });
    try {
      const { log } = logged();
      const p = rollback({ target, lockFile, services: [serviceNaming(srvConfig)] }, log);
      await expect(p).rejects.toMatchObject({ code: "locked" });
      expect(readFileSync(target, "utf8")).toBe("old binary");
      expect(existsSync(lockFile)).toBe(false);
    } finally {
      backup.release();
    }
  });
});

describe("configsToCheck", () => {
  const exists = (p: string) => p === srvConfig || p === DEFAULT_CONFIG_PATH;

  test("the one read, and each service's (the default path for one without --config), once", () => {
    const services = [
      { unit: "backup", configPath: srvConfig },
      { unit: "freshness", configPath: srvConfig },
      { unit: "other", configPath: undefined },
    ];
    expect(configsToCheck("/etc/kd/read.toml", services, exists)).toEqual({
      paths: ["/etc/kd/read.toml", srvConfig, DEFAULT_CONFIG_PATH],
      warnings: [],
    });
  });

  test("a service naming a missing file is not checked, and says so", () => {
    const r = configsToCheck(undefined, [{ unit: "backup", configPath: "/gone.toml" }], exists);
    expect(r.paths).toEqual([]);
    expect(r.warnings[0]).toBe("backup reads /gone.toml, which does not exist: not checked");
    expect(r.warnings[1]).toContain("no config file found");
  });

  test("a service without --config and no default file runs on built-in defaults: nothing to check", () => {
    const r = configsToCheck(undefined, [{ unit: "backup", configPath: undefined }], () => false);
    expect(r.paths).toEqual([]);
    expect(r.warnings).toHaveLength(1);
  });
});
