import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  peekRunSequence,
  runSequenceFile,
  takeRunSequence,
} from "../../../../src/core/backup/run-sequence.ts";
import { tempDir } from "../../../helpers/env.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A state directory whose run records carry `sequences` (none: an older record, no `sequence`). */
function state(...sequences: (number | undefined)[]) {
  const t = tempDir("kd-run-sequence-");
  cleanups.push(() => t.remove());
  const paths = { stateDir: join(t.path, "state"), runsDir: join(t.path, "state", "runs") };
  mkdirSync(paths.runsDir, { recursive: true });
  sequences.forEach((sequence, i) => {
    const at = `2026-01-0${i + 1}T03:00:00Z`;
    const record = { runId: `r${i + 1}`, version: "9.9.9", hostname: "h", scope: "full", startedAt: at };
    const rest = { finishedAt: at, durationMs: 0, status: "ok", units: [], errors: [] };
    writeFileSync(
      join(paths.runsDir, `r${i + 1}.json`),
      JSON.stringify({ ...record, ...rest, ...(sequence ? { sequence } : {}) }),
    );
  });
  return paths;
}

const noWarning = (line: string) => expect(line).toBe("");

test("each run takes the next number, written durably (0600) before the run goes on", () => {
  const paths = state();
  expect(takeRunSequence(paths, noWarning)).toBe(1);
  expect(takeRunSequence(paths, noWarning)).toBe(2);
  expect(readFileSync(runSequenceFile(paths.stateDir), "utf8")).toBe("2\n");
  expect(statSync(runSequenceFile(paths.stateDir)).mode & 0o777).toBe(0o600);
  expect(existsSync(`${runSequenceFile(paths.stateDir)}.tmp`)).toBe(false);
});

test("a missing counter starts past the highest number a run record carries; older records count nothing", () => {
  const paths = state(undefined, 3, 7, undefined);
  expect(peekRunSequence(paths)).toBe(8);
  expect(existsSync(runSequenceFile(paths.stateDir))).toBe(false); // peeking writes nothing
  expect(takeRunSequence(paths, noWarning)).toBe(8);
  expect(takeRunSequence(state(undefined, undefined), noWarning)).toBe(1);
});

test("a torn or foreign counter, or one put back from an older copy, never gives a number a record has", () => {
  for (const text of ["", "4\u0000\u0000", "12x", "-3", "1e9", "99999999999999999999"]) {
    const paths = state(5, 7);
    writeFileSync(runSequenceFile(paths.stateDir), text);
    expect(takeRunSequence(paths, noWarning)).toBe(8);
  }
  const putBack = state(5, 7);
  writeFileSync(runSequenceFile(putBack.stateDir), "2\n");
  expect(takeRunSequence(putBack, noWarning)).toBe(8);
  // Ahead of the records: runs that crashed before writing theirs used those numbers.
  const crashed = state(5, 7);
  writeFileSync(runSequenceFile(crashed.stateDir), "20\n");
  expect(takeRunSequence(crashed, noWarning)).toBe(21);
});

test("a counter that cannot be written: the run carries no number, with a warning saying so", () => {
  const paths = state(5);
  const blocked = { ...paths, stateDir: join(paths.runsDir, "r1.json") }; // a file, no directory
  const warnings: string[] = [];
  expect(takeRunSequence(blocked, (l) => warnings.push(l))).toBeUndefined();
  expect(warnings).toEqual([expect.stringContaining("this run carries no number")]);
});
