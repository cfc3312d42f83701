import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runningChildren } from "../../../src/core/process/children.ts";
import { createBunRunner, type RunResult } from "../../../src/core/process/runner.ts";
import { tempDir } from "../../helpers/env.ts";

// The real signal path, end to end: a child bun process (test/fixtures/signal-child.ts) wired exactly
// like src/cli.ts (installSignalHandlers + Lifecycle + runner) receives real signals.
const FIXTURE = join(import.meta.dir, "..", "..", "fixtures", "signal-child.ts");
const runner = createBunRunner();
const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

/** Pids of live processes whose argv contains `needle` as one argument. */
function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      const state = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]?.[0];
      if (state !== "Z" && argv.some((a) => a.includes(needle))) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

async function startFixture(compSeconds: string) {
  const d = tempDir("kd-signal-");
  dirs.push(d);
  const logFile = join(d.path, "log");
  const marker = `${1000 + Math.floor(Math.random() * 8000)}.${process.pid % 1000}`;
  let ready: () => void = () => {};
  const isReady = new Promise<void>((r) => {
    ready = r;
  });
  const argv = [process.execPath, FIXTURE, logFile, marker, compSeconds];
  const result: Promise<RunResult> = runner.run(argv, {
    check: false,
    timeoutMs: 60_000,
    onStdoutLine: (l) => l === "ready" && ready(),
  });
  await isReady;
  const child = runningChildren().find((c) => c.argv[1] === FIXTURE && c.argv[2] === logFile);
  if (!child) throw new Error("fixture not tracked");
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n") : []);
  return { pid: child.pid, result, log, marker };
}

describe("signal path (real signals to a child process)", () => {
  for (const [sig, status] of [
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const) {
    test(`${sig}: children ended (SIGKILL for the one ignoring TERM), compensations once in priority order, exit ${status}`, async () => {
      const f = await startFixture("0.3");
      expect(processesWith(f.marker).length).toBeGreaterThanOrEqual(2);
      const t0 = Date.now();
      process.kill(f.pid, sig);
      const r = await f.result;
      expect(r.exitCode).toBe(status);
      // The TERM-ignoring child goes only after the lifecycle's grace (800 ms), not the runner's 30 s.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(r.stderr).toContain(`received ${sig}, cleaning up`);
      const log = f.log();
      const exits = log.filter((l) => l.startsWith("exit") || l.startsWith("main done"));
      expect(exits[0]).toMatch(new RegExp(`^(exit|main done) ${status}$`));
      expect(log.filter((l) => !exits.includes(l))).toEqual([
        "compensation start",
        "compensation done",
        "cleanup",
      ]);
      expect(processesWith(f.marker)).toEqual([]);
    }, 20_000);
  }

  test("a second signal during cleanup forces the exit at once, names what is not done, kills every child", async () => {
    const comp = `7.${process.pid % 1000}1`;
    const f = await startFixture(comp);
    process.kill(f.pid, "SIGTERM");
    const deadline = Date.now() + 10_000;
    while (!f.log().includes("compensation start") && Date.now() < deadline) await Bun.sleep(20);
    const t0 = Date.now();
    process.kill(f.pid, "SIGINT");
    const r = await f.result;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.exitCode).toBe(130);
    expect(r.stderr).toContain("forced exit; not done: restart web, remove temp");
    expect(f.log()).not.toContain("cleanup");
    await Bun.sleep(100);
    expect(processesWith(f.marker)).toEqual([]);
    expect(processesWith(comp)).toEqual([]);
  }, 20_000);
});

describe("lifecycle fixes", () => {
  test("a signal arriving while a compensation runs its `docker start` does not kill that child", async () => {
    const { Lifecycle, PRIORITY } = await import("../../../src/core/safe-exit.ts");
    const errors: string[] = [];
    const lc = new Lifecycle((name, e) => errors.push(`${name}: ${String(e)}`), { childGraceMs: 200 });
    let out = "";
    const comp = lc.register("start web", PRIORITY.restartContainers, async () => {
      out = (await runner.run(["sh", "-c", "sleep 0.5; echo started"])).stdout;
    });
    const normal = comp.run();
    await Bun.sleep(100);
    const work = runner.run(["sleep", "30"], { signal: lc.signal, check: false });
    await lc.onSignal("SIGTERM");
    await normal;
    expect(errors).toEqual([]);
    expect(out).toBe("started\n");
    expect((await work).aborted).toBe(true);
  });

  test("concurrent runAll calls (signal path + normal path) still go one at a time by priority", async () => {
    const { Lifecycle } = await import("../../../src/core/safe-exit.ts");
    const lc = new Lifecycle();
    const order: string[] = [];
    let active = 0;
    for (const [name, prio] of [
      ["cleanup", 50],
      ["restart db", 10],
      ["restart app", 10],
    ] as const) {
      lc.register(name, prio, async () => {
        active++;
        expect(active).toBe(1);
        await Bun.sleep(20);
        order.push(name);
        active--;
      });
    }
    await Promise.all([lc.runAll(), lc.runAll(), lc.onSignal("SIGINT")]);
    expect(order).toEqual(["restart app", "restart db", "cleanup"]);
  });
});

test("the signal path waits for a compensation the normal path started directly", async () => {
  const { Lifecycle, PRIORITY } = await import("../../../src/core/safe-exit.ts");
  const lc = new Lifecycle();
  let done = false;
  const comp = lc.register("start web", PRIORITY.restartContainers, async () => {
    await Bun.sleep(200);
    done = true;
  });
  void comp.run();
  await lc.onSignal("SIGTERM");
  expect(done).toBe(true);
  expect(lc.unfinished()).toEqual([]);
  await comp.run();
  await lc.runAll();
});

test("`docker stop` is waited for on the signal path, never killed (the daemon would finish it anyway)", async () => {
  const { isUncancellable } = await import("../../../src/core/process/children.ts");
  expect(isUncancellable(["docker", "stop", "-t", "30", "abc"])).toBe(true);
  expect(isUncancellable(["/usr/bin/docker", "container", "stop", "abc"])).toBe(true);
  expect(isUncancellable(["docker", "start", "abc"])).toBe(false);
  expect(isUncancellable(["kopia", "snapshot", "create", "stop"])).toBe(false);
});
