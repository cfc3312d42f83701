import { afterEach, expect, test } from "bun:test";
import { openGated } from "../../../../src/core/backup/gated.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { backupDeps, config, volumeSource } from "./fixtures.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const source = volumeSource;

test("a kopia that ends before it reaches its gate (the repository did not open) is known at once, not after the park timeout", async () => {
  const dir = tempDir("kd-gated-");
  dirs.push(dir);
  // mkfifo is not run: kopia never opens a fifo, as when it fails before its gate action.
  const runner = new FakeRunner([
    { argv: (a) => a[0] === "mkfifo" },
    {
      argv: (a) => a.includes("create") && a.includes(source.path),
      exitCode: 1,
      stderr: "ERROR error connecting to repository: invalid repository password",
    },
  ]);
  const d = backupDeps({ config: config(), runner, docker: new FakeDocker(), dir: dir.path });
  const o = { hostname: "h", timestamp: "2026-12-01T00:00:00Z", log: d.log, unit: "u" };
  const t0 = performance.now();
  const { gated, dispose } = await openGated(d, [source], o);
  expect(performance.now() - t0).toBeLessThan(3_000); // the park timeout is two minutes
  expect(gated.map((g) => g.parked)).toEqual([false]);
  const r = await gated[0]?.abandon("the run cannot go on");
  expect(r).toMatchObject({ status: "failed", reason: "the run cannot go on" });
  expect(runner.remaining).toBe(0);
  dispose();
});

test("a kopia that parked at its gate and died before the stop ended (OOM, the action's timeout): release fails that source, never hangs", async () => {
  const dir = tempDir("kd-gated-");
  dirs.push(dir);
  // Real fifos and a real reader: kopia's gate action opens the fifo, then the process dies.
  const runner = {
    calls: [] as string[],
    async run(argv: readonly string[], options: { env?: Record<string, string | undefined> } = {}) {
      this.calls.push(argv[0] === "mkfifo" ? "mkfifo" : "kopia");
      if (argv[0] === "mkfifo") {
        Bun.spawnSync([...argv]);
        return {
          argv,
          exitCode: 0,
          signal: null,
          stdout: "",
          stderr: "",
          durationMs: 0,
          timedOut: false,
          aborted: false,
        };
      }
      const gate = options.env?.KOPI_DOCKA_GATE ?? "";
      await Bun.spawn(["sh", "-c", 'exec 3<"$G"; sleep 0.2'], { env: { G: gate } }).exited;
      return {
        argv,
        exitCode: 1,
        signal: null,
        stdout: "",
        stderr: "killed",
        durationMs: 0,
        timedOut: false,
        aborted: false,
      };
    },
  };
  const d = backupDeps({ config: config(), runner, docker: new FakeDocker(), dir: dir.path });
  const o = { hostname: "h", timestamp: "2026-12-01T00:00:00Z", log: d.log, unit: "u" };
  const { gated, dispose } = await openGated(d, [source], o);
  expect(gated.map((g) => g.parked)).toEqual([true]);
  await Bun.sleep(600); // the reader is gone: writing "go" to the fifo is EPIPE
  const g = gated[0];
  if (!g) throw new Error("no gated snapshot");
  const r = await g.release();
  expect(r.status).toBe("failed");
  await g.read; // the containers may start
  expect(runner.calls).toEqual(["mkfifo", "kopia"]);
  dispose();
});

test("abandoned at its gate, a kopia whose action was made optional saves a live snapshot anyway: it is deleted", async () => {
  const dir = tempDir("kd-gated-");
  dirs.push(dir);
  const manifest = {
    id: "f".repeat(32),
    source: { host: "h", userName: "kopi-docka", path: source.logicalPath },
    startTime: "2026-12-01T00:00:00Z",
    rootEntry: { obj: `k${"1".repeat(32)}`, summ: { files: 1 } },
  };
  const result = (argv: readonly string[], stdout = "") => ({
    argv,
    exitCode: 0,
    signal: null,
    stdout,
    stderr: "",
    durationMs: 0,
    timedOut: false,
    aborted: false,
  });
  const runner = {
    calls: [] as string[],
    async run(argv: readonly string[], options: { env?: Record<string, string | undefined> } = {}) {
      if (argv[0] === "mkfifo") {
        this.calls.push("mkfifo");
        Bun.spawnSync([...argv]);
        return result(argv);
      }
      if (argv.includes("delete")) {
        this.calls.push(`delete ${argv[argv.indexOf("delete") + 1]}`);
        return result(argv);
      }
      this.calls.push("create");
      // Parks at the gate, is told "no", and goes on (the action is not essential): reads, saves.
      const gate = options.env?.KOPI_DOCKA_GATE ?? "";
      await Bun.spawn(["sh", "-c", 'exec 3<"$G"; cat <&3 >/dev/null'], { env: { G: gate } }).exited;
      return result(argv, `${JSON.stringify(manifest)}\n`);
    },
  };
  const d = backupDeps({ config: config(), runner, docker: new FakeDocker(), dir: dir.path });
  const o = { hostname: "h", timestamp: "2026-12-01T00:00:00Z", log: d.log, unit: "u" };
  const { gated, dispose } = await openGated(d, [source], o);
  expect(gated.map((g) => g.parked)).toEqual([true]);
  const r = await gated[0]?.abandon("a stop failed");
  expect(r?.status).toBe("failed");
  // Before: kept, a complete snapshot of live data tagged with this run's point, and the next base.
  expect(runner.calls).toEqual(["mkfifo", "create", `delete ${manifest.id}`]);
  dispose();
});
