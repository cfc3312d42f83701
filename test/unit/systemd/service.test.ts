import { expect, test } from "bun:test";
import { InterruptedError } from "../../../src/core/errors.ts";
import { errorForExitStatus } from "../../../src/exit-codes.ts";
import { journalctlArgv, parseJournal, parseLines } from "../../../src/systemd/logs.ts";
import { runNow } from "../../../src/systemd/run-now.ts";
import { FakeRunner } from "../../fakes/fake-runner.ts";

const show = (o: { active: string; start: string; exit?: string; status?: string; result?: string }) =>
  [
    "LoadState=loaded",
    `ActiveState=${o.active}`,
    `Result=${o.result ?? "success"}`,
    `ExecMainStatus=${o.status ?? "0"}`,
    `ExecMainStartTimestamp=${o.start}`,
    `ExecMainExitTimestamp=${o.exit ?? ""}`,
  ].join("\n");
const isShow = (a: readonly string[]) => a[0] === "systemctl" && a[1] === "show";

test("journalctl argv: the backup unit, lines, since, follow; json when parsed", () => {
  expect(journalctlArgv({ lines: 5, since: "yesterday", json: true })).toEqual([
    ...["journalctl", "--unit", "kopi-docka-backup.service", "--no-pager", "--output", "json"],
    ...["--lines", "5", "--since", "yesterday"],
  ]);
  expect(journalctlArgv({ lines: 10, follow: true }).slice(-3)).toEqual(["--lines", "10", "--follow"]);
  expect(() => parseLines("0", 1)).toThrow("--lines 0: not a positive whole number");
  expect(parseLines(undefined, 7)).toBe(7);
});

test("journal entries: time from the realtime stamp, pid, a byte-array message decoded, torn lines skipped", () => {
  const out = [
    JSON.stringify({
      __REALTIME_TIMESTAMP: "1767225600000000",
      _PID: "42",
      PRIORITY: "6",
      MESSAGE: "1 of 1 units OK",
    }),
    JSON.stringify({ __REALTIME_TIMESTAMP: "1767225601000000", MESSAGE: [104, 105] }),
    '{"MESSAGE": "torn',
  ].join("\n");
  expect(parseJournal(out)).toEqual([
    { time: "2026-01-01T00:00:00.000Z", pid: "42", priority: "6", message: "1 of 1 units OK" },
    { time: "2026-01-01T00:00:01.000Z", message: "hi" },
  ]);
});

test("run-now --follow: follows the journal while systemctl start waits; a failed run's status and result", async () => {
  const runner = new FakeRunner([
    { argv: isShow, stdout: show({ active: "inactive", start: "" }) },
    {
      argv: (a) => a[0] === "journalctl" && a.includes("--follow"),
      check: (o) => expect(o.stdio).toBe("inherit"),
    },
    { argv: ["systemctl", "start", "kopi-docka-backup.service"], exitCode: 3 },
    {
      argv: isShow,
      stdout: show({ active: "failed", start: "Tue", exit: "Tue", status: "3", result: "exit-code" }),
    },
  ]);
  const r = await runNow({ runner, systemdRunning: true, pollMs: 1 }, { follow: true });
  expect(r.finished).toEqual({ result: "exit-code", exitStatus: 3, activeState: "failed" });
  expect(runner.remaining).toBe(0);
});

test("run-now without --follow: start --no-block only; not installed: not_found", async () => {
  const runner = new FakeRunner([
    { argv: isShow, stdout: show({ active: "inactive", start: "" }) },
    { argv: ["systemctl", "start", "--no-block", "kopi-docka-backup.service"] },
  ]);
  expect(await runNow({ runner, systemdRunning: true }, { follow: false })).toEqual({
    unit: "kopi-docka-backup.service",
    started: true,
  });
  const missing = new FakeRunner([{ argv: isShow, stdout: "LoadState=not-found\n" }]);
  await expect(runNow({ runner: missing, systemdRunning: true }, { follow: false })).rejects.toMatchObject({
    code: "not_found",
  });
});

test("a finished run's status becomes the same exit code", () => {
  expect(errorForExitStatus(0, "x")).toBeUndefined();
  expect(errorForExitStatus(3, "x")?.code).toBe("partial_failure");
  expect(errorForExitStatus(4, "x")?.code).toBe("restart_failed");
  expect(errorForExitStatus(11, "x")?.code).toBe("locked");
  expect(errorForExitStatus(143, "x")).toBeInstanceOf(InterruptedError);
});
