import { describe, expect, test } from "bun:test";
import { createBunRunner } from "../../../../src/core/process/runner.ts";

// Real (tiny) processes: the runner's own timers are under test.
const runner = createBunRunner();

describe("runner timers past setTimeout's range", () => {
  test("a timeout above 2^31-1 ms does not kill the child at once (docker stop -t 2147454 + grace)", async () => {
    const timeoutMs = 2_147_454 * 1000 + 30_000;
    expect(timeoutMs).toBeGreaterThan(2 ** 31 - 1);
    const r = await runner.run(["sh", "-c", "sleep 0.3; echo done"], { timeoutMs });
    expect(r).toMatchObject({ exitCode: 0, stdout: "done\n", timedOut: false, signal: null });
  });

  test("a kill grace above 2^31-1 ms does not SIGKILL an aborted child at once", async () => {
    const abort = new AbortController();
    // SIGTERM is ignored (and so by `sleep` too): only a SIGKILL would end it early.
    const running = runner.run(["sh", "-c", "trap '' TERM; sleep 0.3; echo survived"], {
      signal: abort.signal,
      killGraceMs: 2 ** 32,
      check: false,
    });
    await Bun.sleep(50);
    abort.abort();
    const r = await running;
    expect(r).toMatchObject({ exitCode: 0, stdout: "survived\n", aborted: true, signal: null });
  });
});
