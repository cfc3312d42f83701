import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import {
  describeReal,
  QUICK_STOP,
  run,
  startContainer,
  tempDir,
  uniqueName,
  writeTestConfig,
} from "../helpers/env.ts";
import { coreDeps, inspectState } from "./backup-helpers.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

describeReal("backup: failures restart containers, hooks, the lock", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-bk-fail-");
  const names: string[] = [];
  const volumes: string[] = [];
  const tmpfs = join(dir.path, "small");
  const fresh = (p: string) => {
    const n = uniqueName(p);
    names.push(n);
    volumes.push(`${n}-v`);
    return n;
  };

  beforeAll(() => {
    mkdirSync(tmpfs);
  });

  afterAll(async () => {
    await run(["umount", tmpfs], { check: false });
    for (const n of names) await run(["docker", "rm", "-f", n], { check: false });
    for (const v of volumes) await run(["docker", "volume", "rm", "-f", v], { check: false });
    dir.remove();
  }, 60_000);

  test("kopia failing mid-unit (repository disk full): container restarted, exit 1, summary names unit and cause", async () => {
    const name = fresh("kdfull");
    await run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", tmpfs]);
    const cfg = writeTestConfig(join(dir.path, "full"), "").replace(/$/, "");
    writeFileSync(
      cfg,
      readFileSync(cfg, "utf8").replace(
        `path = "${join(dir.path, "full")}/repository"`,
        `path = "${tmpfs}/repository"`,
      ),
    );
    await startContainer(
      name,
      `${name}-v`,
      [],
      `head -c 20000000 /dev/urandom > /data/big.bin; ${QUICK_STOP}`,
    );
    await Bun.sleep(1500);
    const before = await inspectState(name);
    const r = await runCli(["backup", "--config", cfg, "--unit", name], { env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`${name}: failed (snapshot`);
    expect(r.stderr).toMatch(/no space left on device/i);
    const after = await inspectState(name);
    expect(after.Running).toBe(true);
    expect(after.StartedAt).not.toBe(before.StartedAt); // it was stopped, and started again
  }, 120_000);

  test('a container (restart policy "no") that exits as soon as it is started again: said at once, with its code, not after start_timeout', async () => {
    const name = fresh("kdexits");
    const cfg = writeTestConfig(join(dir.path, "exits"));
    // Runs the first time; every later start finds the marker and exits 3 at once.
    await startContainer(name, `${name}-v`, [], `[ -e /data/ran ] && exit 3; touch /data/ran; ${QUICK_STOP}`);
    await Bun.sleep(1000);
    const began = Date.now();
    const r = await runCli(["backup", "--config", cfg, "--unit", name], { env });
    const seconds = (Date.now() - began) / 1000;
    expect(r.stderr).toContain("exited with code 3 right after it was started");
    expect(r.stderr).not.toContain("after 60s");
    expect(r.exitCode).toBe(4);
    expect(seconds).toBeLessThan(40); // start_timeout is 60 s
    expect((await inspectState(name)).Running).toBe(false);
  }, 180_000);

  test("a failing pre-backup hook: the unit is never stopped, and nothing opened ahead is saved", async () => {
    const name = fresh("kdhook");
    const hook = join(dir.path, "pre-hook.sh");
    writeFileSync(hook, "#!/bin/sh\necho 'not today' >&2\nexit 3\n");
    chmodSync(hook, 0o755);
    const kd = join(dir.path, "hook");
    await startContainer(name, `${name}-v`);
    // A good run first: it finds the gate in place, so the next run opens its snapshots ahead.
    const ok = await runCli(["backup", "--config", writeTestConfig(kd), "--unit", name], { env });
    expect({ exit: ok.exitCode, stderr: ok.stderr }).toMatchObject({ exit: 0 });
    const cfg = writeTestConfig(kd, `[backup.hooks]\npre_backup = "${hook}"\n`);
    const before = await inspectState(name);
    const r = await runCli(["backup", "--config", cfg, "--unit", name, "--json", "--verbose"], { env });
    expect(r.exitCode).toBe(1);
    const record = JSON.parse(r.stdout);
    expect(record.units[0].errors[0].phase).toBe("pre_hook");
    expect(record.units[0].stopped).toEqual([]);
    expect((await inspectState(name)).StartedAt).toBe(before.StartedAt);
    // Opened beside the policy read while the container ran, closed unused at the hook's failure.
    expect(r.stderr).toContain("snapshots opened ahead were dropped");
    const volumeSnapshots = (await coreDeps(cfg).kopia.snapshotList()).filter(
      (m) => m.tags?.["tag:type"] === "volume",
    );
    expect(volumeSnapshots).toHaveLength(1);
  }, 180_000);

  test("a wrong password after a good run: exit 12, nothing stopped, nothing opened ahead, no gate left behind", async () => {
    const name = fresh("kdpw");
    const kd = join(dir.path, "pw");
    const cfg = writeTestConfig(kd);
    await startContainer(name, `${name}-v`);
    const ok = await runCli(["backup", "--config", cfg, "--unit", name], { env });
    expect({ exit: ok.exitCode, stderr: ok.stderr }).toMatchObject({ exit: 0 });
    const before = await inspectState(name);
    writeFileSync(join(kd, "repository.password"), "not-the-password\n");
    const tmp = join(dir.path, "pw-tmp");
    mkdirSync(tmp);
    const r = await runCli(["backup", "--config", cfg, "--unit", name, "--verbose"], {
      env: { ...env, TMPDIR: tmp },
    });
    expect({ exit: r.exitCode }).toEqual({ exit: 12 });
    // The saved connection was current, but the policy read failed: no snapshot runs actions before
    // that read shows only kopi-docka's, so none was opened ahead.
    expect(r.stderr).not.toContain("snapshots opened ahead");
    expect(readdirSync(tmp).filter((f) => f.startsWith("kopi-docka-gates-"))).toEqual([]);
    expect(await inspectState(name)).toEqual(before);
  }, 180_000);

  test("a second concurrent backup exits 11 and touches nothing; the secret never reaches stderr", async () => {
    const name = fresh("kdlock");
    const secret = `pw-${crypto.randomUUID()}`;
    const cfgDir = join(dir.path, "lock");
    const cfg = writeTestConfig(cfgDir, "");
    // sleep as PID 1 ignores SIGTERM: the stop takes the label's 4 s, holding the lock meanwhile
    await startContainer(
      name,
      `${name}-v`,
      ["-e", `DB_PASSWORD=${secret}`, "--label", "kopi-docka.stop-timeout=4"],
      "sleep 3600",
    );
    const first = runCli(["backup", "--config", cfg, "--unit", name, "--verbose"], { env });
    for (let i = 0; i < 200 && !existsSync(join(cfgDir, "kopi-docka.lock")); i++) await Bun.sleep(50);
    const t0 = Date.now();
    const second = await runCli(["backup", "--config", cfg, "--unit", name], { env });
    expect(second.exitCode).toBe(11);
    expect(second.stderr).toMatch(/lock|running/i);
    expect(Date.now() - t0).toBeLessThan(3000);
    const done = await first;
    expect(done.exitCode).toBe(0);
    expect(readdirSync(join(cfgDir, "state", "runs")).filter((f) => f.endsWith(".json"))).toHaveLength(1);
    expect(done.stderr + done.stdout + second.stderr).not.toContain(secret);
    expect((await inspectState(name)).Running).toBe(true);
  }, 120_000);
});
