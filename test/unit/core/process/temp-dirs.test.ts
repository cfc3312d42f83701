import { describe, expect, test } from "bun:test";
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
import { processStartTime } from "../../../../src/core/lock/owner.ts";
import { makeTempDir, sweepDeadTempDirs } from "../../../../src/core/process/temp-dirs.ts";
import { tempDir } from "../../../helpers/env.ts";

// Real processes: a SIGKILLed run's temp dirs (gate fifos, env files holding container secrets) are
// what the next heal removes; a live process's, and anything else in a shared /tmp, are not touched.
const ns = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1] ?? "0";

/** pid and start time of a process that ran and has exited. */
async function deadProcess(): Promise<{ pid: number; start: number }> {
  const p = Bun.spawn(["sleep", "30"]);
  const start = processStartTime(p.pid) ?? 0;
  p.kill("SIGKILL");
  await p.exited;
  return { pid: p.pid, start };
}

/** A dir named as `makeTempDir` names one, for the given owner, with a file inside. */
function leftover(root: string, kind: string, pid: number, start: number, nsId = ns, mode = 0o700) {
  const path = join(root, `kopi-docka-${kind}-p${pid}-${start}-${nsId}-AbC123`);
  mkdirSync(path);
  chmodSync(path, mode);
  writeFileSync(join(path, "env"), "SECRET=x\n");
  return path;
}

describe("temp dirs named after their process", () => {
  const root = tempDir("kd-tempdirs-");

  test("makeTempDir: private, named after this process", () => {
    const d = makeTempDir("gates", root.path);
    expect(statSync(d).mode & 0o777).toBe(0o700);
    const start = processStartTime(process.pid);
    expect(d).toMatch(new RegExp(`/kopi-docka-gates-p${process.pid}-${start}-${ns}-[A-Za-z0-9]{6}$`));
    // This process lives: a sweep keeps it.
    expect(sweepDeadTempDirs(root.path)).toEqual([]);
    expect(existsSync(d)).toBe(true);
  });

  test("a dead process's dirs are removed, with their content", async () => {
    const dead = await deadProcess();
    const a = leftover(root.path, "env", dead.pid, dead.start);
    const b = leftover(root.path, "daemon-config", dead.pid, dead.start);
    expect(sweepDeadTempDirs(root.path).sort()).toEqual([a, b].sort());
    expect(existsSync(a) || existsSync(b)).toBe(false);
  });

  test("a pid alive again as another process (other start time) counts as dead", () => {
    const start = processStartTime(process.pid) ?? 0;
    const a = leftover(root.path, "warm", process.pid, start + 1);
    expect(sweepDeadTempDirs(root.path)).toEqual([a]);
  });

  test("kept: a live owner with an unknown start time, another pid namespace, not private, a symlink, other names", async () => {
    const dead = await deadProcess();
    const unknownStart = leftover(root.path, "gates", process.pid, 0);
    const otherNs = leftover(root.path, "gates", dead.pid, dead.start, "1");
    const open = leftover(root.path, "gates", dead.pid, dead.start, ns, 0o755);
    const target = join(root.path, "target");
    mkdirSync(target, { mode: 0o700 });
    writeFileSync(join(target, "keep"), "x");
    const link = join(root.path, `kopi-docka-gates-p${dead.pid}-${dead.start}-${ns}-LiNk01`);
    symlinkSync(target, link);
    const other = join(root.path, `kopi-docka-gates-XyZ789`);
    mkdirSync(other, { mode: 0o700 });
    const before = readdirSync(root.path).sort();
    expect(sweepDeadTempDirs(root.path)).toEqual([]);
    expect(readdirSync(root.path).sort()).toEqual(before);
    expect(existsSync(join(target, "keep"))).toBe(true);
    for (const p of [unknownStart, otherNs, open]) expect(existsSync(join(p, "env"))).toBe(true);
  });

  test("a missing directory is nothing to sweep", () => {
    expect(sweepDeadTempDirs(join(root.path, "nope"))).toEqual([]);
  });
});
