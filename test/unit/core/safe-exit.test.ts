import { describe, expect, test } from "bun:test";
import { InterruptedError } from "../../../src/core/errors.ts";
import { Lifecycle, PRIORITY } from "../../../src/core/safe-exit.ts";

describe("lifecycle compensations", () => {
  test("a compensation runs exactly once, whichever path gets there first", async () => {
    const lc = new Lifecycle();
    let runs = 0;
    const c = lc.register("restart web", PRIORITY.restartContainers, () => {
      runs++;
    });
    await Promise.all([c.run(), c.run(), lc.runAll()]);
    await lc.runAll();
    expect(runs).toBe(1);
    expect(lc.pending()).toEqual([]);
  });

  test("runAll goes by priority, then newest first", async () => {
    const lc = new Lifecycle();
    const order: string[] = [];
    lc.register("cleanup temp", PRIORITY.cleanup, () => void order.push("temp"));
    lc.register("restart db", PRIORITY.restartContainers, () => void order.push("db"));
    lc.register("restart app", PRIORITY.restartContainers, () => void order.push("app"));
    lc.register("remove restore temp", PRIORITY.dataSafety, () => void order.push("restore-temp"));
    await lc.runAll();
    expect(order).toEqual(["app", "db", "restore-temp", "temp"]);
  });

  test("a dismissed compensation never runs", async () => {
    const lc = new Lifecycle();
    let ran = false;
    const c = lc.register("x", 1, () => {
      ran = true;
    });
    c.dismiss();
    await c.run();
    await lc.runAll();
    expect(ran).toBe(false);
  });

  test("a failing compensation is reported and does not stop the others", async () => {
    const errors: string[] = [];
    const lc = new Lifecycle((name) => errors.push(name));
    let second = false;
    lc.register("second", 2, () => {
      second = true;
    });
    lc.register("first", 1, () => {
      throw new Error("docker start failed");
    });
    await lc.runAll();
    expect(errors).toEqual(["first"]);
    expect(second).toBe(true);
  });

  test("a signal aborts, runs compensations, and marks the run interrupted", async () => {
    const lc = new Lifecycle();
    let restarted = false;
    lc.register("restart", PRIORITY.restartContainers, () => {
      restarted = true;
    });
    await lc.onSignal("SIGTERM");
    expect(lc.signal.aborted).toBe(true);
    expect(lc.signal.reason).toBeInstanceOf(InterruptedError);
    expect(restarted).toBe(true);
    expect(lc.interruptedBy).toBe("SIGTERM");
    expect(() => lc.throwIfInterrupted()).toThrow(InterruptedError);
  });
});

test("runAll: a compensation the normal path already runs ends before a later-priority one starts; failures are kept", async () => {
  const lc = new Lifecycle();
  const order: string[] = [];
  let finish: () => void = () => {};
  const restart = lc.register("start container web", PRIORITY.restartContainers, async () => {
    order.push("restart begins");
    await new Promise<void>((r) => {
      finish = r;
    });
    order.push("restart fails");
    throw new Error("bind source path does not exist");
  });
  lc.register("record the interrupted run", PRIORITY.cleanup, () => {
    order.push(`record sees ${lc.failed(PRIORITY.restartContainers).map((f) => f.name)}`);
  });
  const direct = restart.run().catch(() => {});
  const drained = lc.runAll();
  await Bun.sleep(5);
  expect(order).toEqual(["restart begins"]);
  finish();
  await Promise.all([direct, drained]);
  expect(order).toEqual(["restart begins", "restart fails", "record sees start container web"]);
  expect(lc.failed(PRIORITY.cleanup)).toEqual([]);
});
