import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createJournal, type JournalEntry } from "../../../../src/core/containers/journal.ts";
import { processStartTime } from "../../../../src/core/lock/acquire.ts";
import { tempDir } from "../../../helpers/env.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});
function journalDir(): string {
  const d = tempDir("kd-journal-");
  dirs.push(d);
  return join(d.path, "state", "journal");
}

const entry = (over: Partial<JournalEntry> = {}): JournalEntry => ({
  runId: "20250101T000000Z-abcd",
  pid: process.pid,
  unit: "app",
  containerId: "c0ffee",
  containerName: "app-web-1",
  stoppedAt: "2025-01-01T00:00:01.000Z",
  startedAt: "2024-12-31T23:00:00.123456789Z",
  ...over,
});

describe("restart journal", () => {
  test("record writes one file per run and container, with the pid's start time, in a 0700 dir", () => {
    const dir = journalDir();
    const j = createJournal(dir);
    j.record(entry());
    expect(readdirSync(dir)).toEqual(["20250101T000000Z-abcd--c0ffee.json"]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const onDisk = JSON.parse(readFileSync(join(dir, "20250101T000000Z-abcd--c0ffee.json"), "utf8"));
    expect(onDisk).toEqual({ ...entry(), pidStartTime: processStartTime(process.pid) });
    expect(j.entries()).toEqual([{ ...entry(), pidStartTime: processStartTime(process.pid) ?? null }]);
  });

  test("entries come oldest stop first; clear removes one and tolerates a missing one", () => {
    const j = createJournal(journalDir());
    j.record(entry({ containerId: "b", stoppedAt: "2025-01-01T00:00:03Z" }));
    j.record(entry({ containerId: "a", stoppedAt: "2025-01-01T00:00:02Z" }));
    expect(j.entries().map((e) => e.containerId)).toEqual(["a", "b"]);
    expect(j.hasEntries()).toBe(true);
    j.clear(entry().runId, "a");
    j.clear(entry().runId, "a");
    expect(j.entries().map((e) => e.containerId)).toEqual(["b"]);
    j.clear(entry().runId, "b");
    expect(j.hasEntries()).toBe(false);
  });

  test("a missing directory is an empty journal, not an error", () => {
    const j = createJournal(journalDir());
    expect(j.entries()).toEqual([]);
    expect(j.hasEntries()).toBe(false);
    j.clear("x", "y");
  });

  test("corrupt files are moved aside with a warning; the rest still load", () => {
    const dir = journalDir();
    const warnings: string[] = [];
    const j = createJournal(dir, { warn: (m) => warnings.push(m) });
    j.record(entry());
    writeFileSync(join(dir, "broken--1.json"), "{not json");
    writeFileSync(join(dir, "wrong--2.json"), JSON.stringify({ runId: "x" }));
    // A temp of a live writer (pid 1) stays; one of a writer that is gone was never renamed: removed.
    writeFileSync(join(dir, "leftover.json.1.tmp"), "partial");
    writeFileSync(join(dir, "killed.json.4194000.tmp"), "partial");
    expect(j.entries().map((e) => e.containerId)).toEqual(["c0ffee"]);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain("not a valid entry");
    const names = readdirSync(dir).sort();
    expect(names.filter((n) => n.includes(".corrupt-"))).toHaveLength(2);
    expect(names).toContain("leftover.json.1.tmp");
    expect(names).not.toContain("killed.json.4194000.tmp");
    expect(j.entries()).toHaveLength(1);
    expect(warnings).toHaveLength(2);
  });

  test("an invalid entry is refused before anything is written", () => {
    const dir = journalDir();
    const j = createJournal(dir);
    expect(() => j.record(entry({ containerId: "" }))).toThrow();
    expect(existsSync(dir)).toBe(false);
  });

  test("odd characters in ids cannot escape the directory", () => {
    const dir = journalDir();
    const j = createJournal(dir);
    j.record(entry({ runId: "../../etc", containerId: "x/y" }));
    expect(readdirSync(dir)).toEqual([".._.._etc--x_y.json"]);
    j.clear("../../etc", "x/y");
    expect(readdirSync(dir)).toEqual([]);
  });
});
