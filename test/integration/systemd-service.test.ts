import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { bootKopiDockaHost, narrowExecStart, SERVICE, WAIT_MS } from "../helpers/systemd.ts";

// `systemd run-now --follow`, `logs` and `status` where systemd really is PID 1: the container
// built by scripts/systemd-image.sh, booted by test/helpers/systemd.ts (host daemon via its socket,
// every path mounted at the same path).

describeReal("systemd run-now, logs and status in a booted systemd", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-sysd-svc-");
  const app = uniqueName("kdt-sysd-svc-app");
  const init = uniqueName("kdt-sysd-svc-init");
  const hook = join(dir.path, "hook.sh");
  const config = writeTestConfig(join(dir.path, "kd"), `\n[units.${app}]\npre_backup = "${hook}"\n`);
  const inInit = (argv: string[]) =>
    run(["docker", "exec", init, ...argv], { check: false, timeoutMs: 300_000 });
  const kd = (...args: string[]) => inInit([BINARY, ...args, "--config", config]);

  beforeAll(async () => {
    // fails (with a line on stderr) while `fail` exists
    writeFileSync(hook, `#!/bin/sh\nif [ -f ${dir.path}/fail ]; then echo "hook says no" >&2; exit 3; fi\n`, {
      mode: 0o755,
    });
    // a bind mount: the host daemon's volume directory is not inside the systemd container
    await run(["mkdir", "-p", join(dir.path, "data")]);
    await startContainer(app, join(dir.path, "data"));
    await bootKopiDockaHost(init, dir.path);
    expect((await kd("systemd", "install", "--no-enable")).exitCode).toBe(0);
    // The service backs up our unit alone.
    await narrowExecStart(init, dir.path, `${BINARY} backup --unit ${app} --config ${config}`);
  }, 1_500_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", init, app], { check: false });
    dir.remove();
  }, 60_000);

  test("run-now --follow: the run's journal lines, then its end; exit 0", async () => {
    const r = await kd("systemd", "run-now", "--follow");
    if (r.exitCode !== 0)
      console.error(r.stdout, (await inInit(["journalctl", "-u", SERVICE, "-o", "cat"])).stdout);
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(r.stdout).toContain("1 of 1 units OK");
    expect(r.stdout).toContain(`${SERVICE} finished: success, exit status 0`);
    const [rec] = JSON.parse((await kd("history", "--json")).stdout);
    expect(rec.status).toBe("ok");
  }, 300_000);

  test("run-now --follow on a failing run exits with the backup's own status", async () => {
    writeFileSync(join(dir.path, "fail"), "");
    try {
      const r = await kd("systemd", "run-now", "--follow", "--json");
      const status = Number(
        (await inInit(["systemctl", "show", "-p", "ExecMainStatus", "--value", SERVICE])).stdout.trim(),
      );
      expect(status).not.toBe(0);
      expect(r.exitCode).toBe(status);
      expect(r.stdout).toContain("hook says no");
      expect(r.stderr).toContain(`the backup service (exit-code) exited with status ${status}`);
    } finally {
      await run(["rm", "-f", join(dir.path, "fail")]);
    }
  }, 300_000);

  test("doctor after that run: the timer installed --no-enable and the failed run are each a failed schedule line", async () => {
    const r = await kd("doctor", "--json");
    expect(r.exitCode).toBe(1);
    const schedule = (
      JSON.parse(r.stdout).checks as { id: string; status: string; detail: string; hint?: string }[]
    ).filter((c) => c.id === "schedule");
    expect(schedule[0]).toMatchObject({
      status: "fail",
      detail: "kopi-docka-backup.timer is disabled (inactive): it does not start at boot",
      hint: "systemctl enable --now kopi-docka-backup.timer",
    });
    expect(schedule[1]?.status).toBe("fail");
    expect(schedule[1]?.detail).toMatch(
      /^the backup service's last run failed \(exit-code, exit status [1-9]/,
    );
    expect(schedule[1]?.hint).toContain(`journalctl -u ${SERVICE}`);
    // The units name the config doctor checked: no line about another one.
    expect(schedule.some((c) => c.detail.includes("doctor checked"))).toBe(false);
  }, 120_000);

  test("run-now without --follow returns at once; logs --json reads the journal; status shows the service and the lock", async () => {
    const r = await kd("systemd", "run-now", "--json");
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ unit: SERVICE, started: true });
    const end = Date.now() + WAIT_MS;
    while (
      ["active", "activating"].includes((await inInit(["systemctl", "is-active", SERVICE])).stdout.trim())
    ) {
      if (Date.now() > end) throw new Error("the service did not finish");
      await Bun.sleep(250);
    }
    const logs = JSON.parse((await kd("systemd", "logs", "--lines", "500", "--json")).stdout);
    expect(logs.source).toBe("journal");
    const messages = logs.entries.map((e: { message: string }) => e.message);
    expect(messages.filter((m: string) => m.includes("1 of 1 units OK")).length).toBe(2);
    expect(messages.some((m: string) => m.includes("hook says no"))).toBe(true);
    const text = await kd("systemd", "logs", "--lines", "3");
    expect(text.stdout.trim().split("\n")).toHaveLength(3);
    // --follow: journalctl owns the terminal until Ctrl+C (here SIGINT after 3 s), then exit 130
    const follow = await inInit([
      "timeout",
      "--preserve-status",
      "-s",
      "INT",
      "3",
      BINARY,
      "systemd",
      "logs",
      "--follow",
      "--lines",
      "2",
      "--config",
      config,
    ]);
    expect(follow.exitCode).toBe(130);
    expect(follow.stdout.trim().split("\n").length).toBeGreaterThanOrEqual(2);
    expect(follow.stdout).toContain("kopi-docka-backup.service");
    // systemd forgets a successful oneshot's last run once it is inactive: status shows the state
    const status = await kd("systemd", "status");
    expect(status.stdout).toMatch(/^service {3}inactive/m);
    expect(status.stdout).toContain("lock      free");
    const unlock = await kd("systemd", "unlock");
    expect({ exit: unlock.exitCode, out: unlock.stdout }).toMatchObject({ exit: 0 });
    expect(unlock.stdout).toContain("the lock is free");
  }, 300_000);
});
