import { expect, test } from "bun:test";
import { Lifecycle, PRIORITY } from "../../src/core/safe-exit.ts";
import { exitStatusAfterSignal } from "../../src/exit-codes.ts";

// A second SIGTERM forces the exit before the restart compensation ran: the container stays stopped,
// which is exit 4 (README: it outranks 129/130/143), not the signal's 143.
test("a restart a forced exit left undone is exit 4; other undone work keeps the signal's status", () => {
  const lc = new Lifecycle();
  lc.register("remove temp", PRIORITY.cleanup, () => {});
  expect(lc.unfinished(PRIORITY.restartContainers)).toEqual([]);
  expect(exitStatusAfterSignal("SIGTERM", lc)).toBe(143);
  const restart = lc.register("start container web", PRIORITY.restartContainers, () => {});
  expect(lc.unfinished(PRIORITY.restartContainers)).toEqual(["start container web"]);
  expect(lc.unfinished()).toEqual(["start container web", "remove temp"]);
  expect(exitStatusAfterSignal("SIGTERM", lc)).toBe(4);
  expect(exitStatusAfterSignal("SIGINT", lc)).toBe(4);
  restart.dismiss();
  expect(exitStatusAfterSignal("SIGINT", lc)).toBe(130);
});

test("a restart running when the exit is forced (a `docker start` under way) counts as undone", async () => {
  const lc = new Lifecycle();
  let finish = () => {};
  const running = lc.register("start container web", PRIORITY.restartContainers, async () => {
    await new Promise<void>((r) => {
      finish = r;
    });
  });
  const done = running.run();
  expect(lc.unfinished(PRIORITY.restartContainers)).toEqual(["start container web"]);
  expect(exitStatusAfterSignal("SIGTERM", lc)).toBe(4);
  finish();
  await done;
  expect(exitStatusAfterSignal("SIGTERM", lc)).toBe(143);
});
