import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeCompose, runCompose } from "../helpers/compose.ts";
import {
  describeReal,
  run,
  runTestContainer,
  TEST_IMAGE,
  tempDir,
  uniqueName,
  writeTestConfig,
} from "../helpers/env.ts";

// gluetun + a torrent client: `app` uses vpn's network (`network_mode: "service:vpn"`) and names no
// depends_on. Docker refuses to start app while vpn is stopped ("cannot join network of a non running
// container"). Backup started app first (it sorts before vpn: exit 4, app left Exited every night), and
// an in-place restore started in `docker ps` order and gave up at the first failure (exit 1, the whole
// unit left stopped and held as half restored, though every source was restored).

describeCompose(
  "start order: a container on another's network starts after it (backup and in-place restore)",
  ["docker", "kopia", "image"],
  (cmp) => {
    const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
    const dir = tempDir("kd-order-");
    const project = uniqueName("kdord").replace(/-/g, "");
    const stack = join(dir.path, "stack");
    const config = writeTestConfig(dir.path, `[backup]\nstop_timeout = 2\nstart_timeout = 30\n${cmp.toml}`);
    const compose = (...a: string[]) =>
      runCompose(cmp, ["-p", project, "-f", join(stack, "docker-compose.yml"), ...a], { cwd: stack });
    const [app, vpn, worker] = ["app", "vpn", "worker"].map((s) => cmp.container(project, s)) as [
      string,
      string,
      string,
    ];
    const running = async (c: string) =>
      (await run(["docker", "inspect", "-f", "{{.State.Running}}", c])).stdout.trim() === "true";
    const marker = async () => (await run(["docker", "exec", vpn, "cat", "/vdata/marker"])).stdout.trim();

    beforeAll(async () => {
      mkdirSync(stack, { recursive: true });
      const svc = (volume: string, extra = "") =>
        `    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n    volumes: ["${volume}:/${volume}"]\n${extra}`;
      writeFileSync(
        join(stack, "docker-compose.yml"),
        `version: "3"\nservices:\n  app:\n${svc("adata", '    network_mode: "service:vpn"\n')}` +
          `  vpn:\n${svc("vdata")}  worker:\n${svc("wdata")}volumes:\n  adata:\n  vdata:\n  wdata:\n`,
      );
      await compose("up", "-d");
      await run(["docker", "exec", vpn, "sh", "-c", "echo at-backup > /vdata/marker"]);
    }, 120_000);

    afterAll(async () => {
      await compose("down", "-v", "-t", "1").catch(() => {});
      dir.remove();
    }, 120_000);

    test("backup: vpn starts before app, the unit runs again, exit 0", async () => {
      const r = await runCli(["backup", "--config", config, "--unit", project], { env });
      expect(r.stderr).not.toContain("cannot join network");
      expect(r.exitCode).toBe(0);
      for (const c of [app, vpn, worker]) expect(await running(c)).toBe(true);
    }, 240_000);

    test("restore in place: stopped app first, started vpn first; all run again, exit 0", async () => {
      await compose("up", "-d"); // whatever the backup left, the unit runs
      await run(["docker", "exec", vpn, "sh", "-c", "echo changed > /vdata/marker"]);
      const r = await runCli(["restore", "--config", config, "--unit", project, "--latest", "--yes"], {
        env,
      });
      expect(r.stderr).not.toContain("cannot join network");
      expect(r.exitCode).toBe(0);
      for (const c of [app, vpn, worker]) expect(await running(c)).toBe(true);
      expect(await marker()).toBe("at-backup");
      // Stopped dependents first, started in the reverse order.
      const lines = r.stderr.split("\n");
      const at = (text: string) => lines.findIndex((l) => l.includes(text));
      expect(at(`stopping ${app}`)).toBeLessThan(at(`stopping ${vpn}`));
      expect(at(`started ${vpn} again`)).toBeLessThan(at(`started ${app} again`));
      // Nothing is held as half restored: the next backup runs the unit as usual.
      const next = await runCli(["backup", "--config", config, "--unit", project], { env });
      expect(next.stderr).not.toContain("half-restored");
      expect(next.exitCode).toBe(0);
    }, 300_000);
  },
);

// A restore whose data is all back goes on past a container that does not start: the others start,
// it ends 4 naming it, and the journal keeps it unheld, so the next recovery starts it. Here `a` uses
// the network of `helper`, outside the unit, which the pre-restore hook stops.
describeReal(
  "restore: a container that does not start again leaves the others to start",
  ["docker", "kopia", "image"],
  () => {
    const env = { KOPI_DOCKA_TEST_SOURCE: "1" };
    const dir = tempDir("kd-order-keep-");
    const p = uniqueName("kdordk");
    const [helper, a, b] = [`${p}-helper`, `${p}-a`, `${p}-b`];
    const hook = join(dir.path, "pre-restore.sh");
    const kd = join(dir.path, "kd");
    const config = writeTestConfig(
      kd,
      `[backup]\nstop_timeout = 2\n[backup.hooks]\npre_restore = "${hook}"\n`,
    );
    const running = async (c: string) =>
      (await run(["docker", "inspect", "-f", "{{.State.Running}}", c])).stdout.trim() === "true";

    beforeAll(async () => {
      writeFileSync(hook, `#!/bin/sh\ndocker stop -t 1 ${helper} >/dev/null\n`);
      chmodSync(hook, 0o755);
      await runTestContainer(helper, []);
      await runTestContainer(a, [
        "--label",
        `kopi-docka.unit=${p}`,
        "--network",
        `container:${helper}`,
        "-v",
        `${a}:/data`,
      ]);
      await runTestContainer(b, ["--label", `kopi-docka.unit=${p}`, "-v", `${b}:/data`]);
      const r = await runCli(["backup", "--config", config, "--unit", p], { env });
      expect(r.exitCode).toBe(0);
    }, 180_000);

    afterAll(async () => {
      await run(["docker", "rm", "-f", a, b, helper], { check: false });
      await run(["docker", "volume", "rm", a, b], { check: false });
      dir.remove();
    }, 60_000);

    test("exit 4 naming it; the other runs; not held; `recover` starts it once it can", async () => {
      const r = await runCli(["restore", "--config", config, "--unit", p, "--latest", "--yes"], { env });
      expect(r.stderr).toContain(`${a} could not be started again`);
      expect(r.exitCode).toBe(4);
      expect(await running(b)).toBe(true);
      expect(await running(a)).toBe(false);
      const journal = join(kd, "state", "journal");
      const entries = readdirSync(journal)
        .filter((f) => f.endsWith(".json"))
        .map((f) => JSON.parse(readFileSync(join(journal, f), "utf8")));
      expect(entries.map((e) => [e.containerName, e.hold])).toEqual([[a, undefined]]);
      await run(["docker", "start", helper]);
      const rec = await runCli(["recover", "--config", config], { env });
      expect(rec.exitCode).toBe(0);
      expect(await running(a)).toBe(true);
    }, 300_000);
  },
);
