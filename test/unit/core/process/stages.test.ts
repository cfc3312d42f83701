import { afterEach, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { recoverIfNeeded } from "../../../../src/core/containers/recover.ts";
import type { Docker } from "../../../../src/core/docker/docker.ts";
import { processStartTime } from "../../../../src/core/lock/owner.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { makeStage, sweepRecordedStages } from "../../../../src/core/process/stages.ts";
import { swapIn } from "../../../../src/core/restore/swap-in.ts";
import { tempDir } from "../../../helpers/env.ts";

// A restore killed (SIGKILL) while writing a bind's new data beside it leaves that stage, partial data
// and maybe the old data: the next restore of the target, the heal and `recover` remove it; nothing
// else beside the target, nor a live run's stage, is touched.
const ns = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1] ?? "0";
const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});
const temp = () => {
  const d = tempDir("kd-stages-");
  dirs.push(d);
  return d.path;
};

async function deadProcess(): Promise<{ pid: number; start: number }> {
  const p = Bun.spawn(["sleep", "30"]);
  const start = processStartTime(p.pid) ?? 0;
  p.kill("SIGKILL");
  await p.exited;
  return { pid: p.pid, start };
}

/** A stage as a killed run of `pid` left it beside `target`: new data half written, the old moved in. */
function leftStage(target: string, pid: number, start: number, o: { name?: string; mode?: number } = {}) {
  const path = join(target, "..", `.${o.name ?? "data"}.kd-restore-p${pid}-${start}-${ns}-AbC123`);
  mkdirSync(join(path, "new"), { recursive: true });
  mkdirSync(join(path, "old"));
  writeFileSync(join(path, "new", "part"), "x".repeat(1000));
  chmodSync(path, o.mode ?? 0o700);
  return path;
}

test("a stage is private, named after this process, recorded while it exists", () => {
  const d = temp();
  const journal = join(d, "journal");
  const s = makeStage(join(d, "data"), journal);
  expect(statSync(s.path).mode & 0o777).toBe(0o700);
  expect(s.path).toMatch(
    new RegExp(
      `/\\.data\\.kd-restore-p${process.pid}-${processStartTime(process.pid)}-${ns}-[A-Za-z0-9]{6}$`,
    ),
  );
  expect(readdirSync(join(journal, "restore-stages"))).toHaveLength(1);
  // This run lives: neither the heal nor another restore touches its stage.
  expect(sweepRecordedStages(journal)).toEqual([]);
  expect(existsSync(s.path)).toBe(true);
  s.remove();
  expect(existsSync(s.path)).toBe(false);
  expect(readdirSync(join(journal, "restore-stages"))).toEqual([]);
});

test("the next restore of the target removes a dead run's stage, and only that", async () => {
  const d = temp();
  const target = join(d, "data");
  mkdirSync(target);
  const dead = await deadProcess();
  const stale = leftStage(target, dead.pid, dead.start);
  const live = leftStage(target, process.pid, processStartTime(process.pid) ?? 0);
  const otherTarget = leftStage(target, dead.pid, dead.start, { name: "data2" });
  const open = join(d, `.data.kd-restore-p${dead.pid}-${dead.start}-${ns}-Open12`);
  mkdirSync(open);
  chmodSync(open, 0o755);
  // A link with a stage's name is never followed, nor removed.
  mkdirSync(join(d, "elsewhere"));
  writeFileSync(join(d, "elsewhere", "keep"), "");
  symlinkSync(join(d, "elsewhere"), join(d, `.data.kd-restore-p${dead.pid}-${dead.start}-${ns}-Link12`));
  const unknown = join(d, ".data.kd-restore-AbC123");
  mkdirSync(unknown, { mode: 0o700 });

  await swapIn("bind /data", target, async (fresh) => {
    mkdirSync(fresh);
  });
  expect(existsSync(stale)).toBe(false);
  for (const kept of [live, otherTarget, open, unknown, join(d, "elsewhere", "keep")])
    expect(existsSync(kept)).toBe(true);
  expect(readdirSync(d).filter((n) => n.includes("Link12"))).toHaveLength(1);
});

test("the heal and recover remove a dead run's recorded stages, then the records", async () => {
  const d = temp();
  const journal = join(d, "journal");
  const records = join(journal, "restore-stages");
  mkdirSync(records, { recursive: true });
  const dead = await deadProcess();
  const target = join(d, "data");
  mkdirSync(target);
  const stale = leftStage(target, dead.pid, dead.start);
  writeFileSync(join(records, `p${dead.pid}-${dead.start}-${ns}-xYz789.json`), JSON.stringify({ target }));
  // Killed between its renames: the target is gone, its old data is in the stage alone, which stays.
  const gone = join(d, "gone");
  const only = leftStage(gone, dead.pid, dead.start, { name: "gone" });
  writeFileSync(
    join(records, `p${dead.pid}-${dead.start}-${ns}-gOne12.json`),
    JSON.stringify({ target: gone }),
  );
  // A live run's record stays, and so does its stage.
  const mine = makeStage(join(d, "other"), journal);
  // The heal every restore, backup and `recover` runs first (its /tmp sweep kept to this test's dir).
  const tmp = process.env.TMPDIR;
  process.env.TMPDIR = d;
  try {
    const docker = {} as Docker; // no journal entry: no container to ask docker about
    await recoverIfNeeded({ paths: { journalDir: journal }, docker, log: silentLogger() });
  } finally {
    if (tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmp;
  }
  expect(existsSync(stale)).toBe(false);
  expect(existsSync(join(only, "old"))).toBe(true);
  expect(readdirSync(records)).toHaveLength(1);
  expect(existsSync(mine.path)).toBe(true);
  mine.remove();
});
