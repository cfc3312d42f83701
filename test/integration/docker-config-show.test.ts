import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBackup } from "../../src/core/backup/run.ts";
import { removeDockerObjects } from "../helpers/cleanup.ts";
import { cliArgv, runCli } from "../helpers/cli.ts";
import { describeReal, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { coreDeps } from "./backup-helpers.ts";

// `docker-config show` after a real `--scope full` backup. The backup reads the daemon config from a
// temp dir standing in for /etc/docker (this machine's real one is not the test's to touch).
describeReal("docker-config show after a --scope full backup", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-dockercfg-");
  const name = uniqueName("kdtdcfg");
  const config = writeTestConfig(join(dir.path, "kd"));
  const etc = join(dir.path, "etc-docker");
  const dropIns = join(dir.path, "docker.service.d");
  const daemonJson = {
    "log-driver": "local",
    "live-restore": true,
    proxies: { "http-proxy": "http://bob:hunter2secret@proxy:3128" },
  };
  /** The child's TMPDIR: where its temp dir must appear, and be gone again. */
  const tmp = join(dir.path, "tmp");
  const env = { TMPDIR: tmp };
  let runId = "";

  beforeAll(async () => {
    mkdirSync(etc);
    mkdirSync(dropIns);
    mkdirSync(tmp);
    writeFileSync(join(etc, "daemon.json"), `${JSON.stringify(daemonJson, null, 2)}\n`);
    writeFileSync(join(dropIns, "override.conf"), "[Service]\nLimitNOFILE=1048576\n");
    await startContainer(name, name);
    const deps = { ...coreDeps(config), dockerConfigPaths: [join(etc, "daemon.json"), dropIns] };
    const record = await runBackup(deps, { units: [name], scope: "full" });
    expect(record.status).toBe("ok");
    expect(record.units[0]?.sources.find((s) => s.type === "docker_config")?.status).toBe("ok");
    runId = record.runId;
  }, 240_000);

  afterAll(async () => {
    await removeDockerObjects([name], [name]);
    dir.remove();
  }, 60_000);

  test("--json: the files, daemon.json (secrets redacted), the manual steps; the temp dir is gone", async () => {
    const r = await runCli(["docker-config", "show", "--config", config, "--json"], { env });
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    const v = JSON.parse(r.stdout);
    expect(v).toMatchObject({ runId, unit: name, host: "kd-test-host", daemonJsonValid: true });
    expect(v.files.map((f: { path: string }) => f.path)).toEqual([
      "daemon.json",
      "docker.service.d/override.conf",
    ]);
    const shown = JSON.parse(v.daemonJson);
    expect(shown["log-driver"]).toBe("local");
    expect(shown["live-restore"]).toBe(true);
    expect(r.stdout).not.toContain("hunter2secret");
    expect(v.steps[0]).toBe(
      `kopi-docka kopia -- snapshot restore ${v.snapshotId} /root/kopi-docka-docker-config-${runId}   # the saved files, unredacted`,
    );
    expect(v.steps.join("\n")).toContain("cp /root/kopi-docka-docker-config-");
    expect(v.steps.join("\n")).toContain("systemctl daemon-reload");
    expect(readdirSync(tmp)).toEqual([]);
  });

  test("text: files, daemon.json and numbered steps; --run picks that run; a run without one is exit 1", async () => {
    const r = await runCli(["docker-config", "show", "--config", config, "--run", runId], { env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("docker.service.d/override.conf");
    expect(r.stdout).toContain('"log-driver": "local"');
    expect(r.stdout).toMatch(/^ {2}1\. kopi-docka kopia -- snapshot restore [0-9a-f]+ /m);
    const none = await runCli(
      ["docker-config", "show", "--config", config, "--run", "19990101T000000Z-000000"],
      { env },
    );
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain("has no docker daemon config snapshot");
    expect(readdirSync(tmp)).toEqual([]);
  });

  test("SIGTERM while the snapshot is restored: exit 143 and the 0700 temp dir is removed", async () => {
    // a kopia in front of the real one that holds the restore until the test has looked
    const shimDir = join(dir.path, "shim");
    mkdirSync(shimDir);
    const marker = join(dir.path, "restoring");
    const real = Bun.which("kopia") as string;
    writeFileSync(
      join(shimDir, "kopia"),
      `#!/bin/sh\nfor a in "$@"; do if [ "$a" = restore ]; then touch ${marker}; sleep 60; fi; done\nexec ${real} "$@"\n`,
      { mode: 0o755 },
    );
    const child = Bun.spawn([...cliArgv(), "docker-config", "show", "--config", config], {
      env: { ...process.env, CI: "true", TMPDIR: tmp, PATH: `${shimDir}:${process.env.PATH}` },
      stdout: "ignore",
      stderr: "pipe",
    });
    for (let i = 0; i < 600 && !existsSync(marker); i++) await Bun.sleep(50);
    expect(existsSync(marker)).toBe(true);
    const made = readdirSync(tmp);
    expect(made).toHaveLength(1);
    expect(made[0]).toStartWith("kopi-docka-daemon-config-");
    expect(statSync(join(tmp, made[0] as string)).mode & 0o777).toBe(0o700);
    child.kill("SIGTERM");
    expect(await child.exited).toBe(143);
    expect(readdirSync(tmp)).toEqual([]);
  }, 120_000);

  test("a host without any daemon config: the full point is still complete, and show says there is nothing to apply", async () => {
    const none = [join(dir.path, "no-daemon.json"), join(dir.path, "no-docker.service.d")];
    const record = await runBackup(
      { ...coreDeps(config), dockerConfigPaths: none },
      { units: [name], scope: "full" },
    );
    expect(record.status).toBe("ok");
    expect(record.units[0]?.sources.find((s) => s.type === "docker_config")?.status).toBe("ok");
    const points = JSON.parse(
      (await runCli(["snapshots", "--json", "--config", config], { env })).stdout,
    ).points;
    const newest = points.find((p: { runId: string }) => p.runId === record.runId);
    expect(newest).toMatchObject({ complete: true, problems: [] });
    const r = await runCli(["docker-config", "show", "--config", config, "--run", record.runId], { env });
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(r.stdout).toContain("(none)");
    expect(r.stdout).toContain("nothing to apply");
    expect(r.stdout).not.toContain("systemctl restart docker");
  }, 240_000);
});
