import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { AppError } from "../../../../src/core/errors.ts";
import {
  acquireLock,
  currentBootId,
  isProcessAlive,
  processStartTime,
} from "../../../../src/core/lock/acquire.ts";
import { createBunRunner } from "../../../../src/core/process/runner.ts";
import { tempDir } from "../../../helpers/env.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});
function lockPath(): string {
  const d = tempDir("kd-lock-");
  dirs.push(d);
  return join(d.path, "nested", "dir", "kopi-docka.lock");
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const p = Bun.spawnSync(["true"]);
  return p.pid;
}

function writeStaleLock(file: string, pid = deadPid(), extra: object = {}): void {
  writeFileSync(
    file,
    JSON.stringify({
      pid,
      runId: "old-run",
      command: "backup",
      startedAt: "2020-01-01T00:00:00.000Z",
      hostname: hostname(),
      processStartTime: 1,
      ...extra,
    }),
  );
}

describe("process liveness", () => {
  test("our own process is alive with its start time, and not with another", () => {
    const st = processStartTime(process.pid);
    expect(st).toBeNumber();
    expect(isProcessAlive(process.pid, st)).toBe(true);
    expect(isProcessAlive(process.pid, (st ?? 0) + 1)).toBe(false);
    expect(isProcessAlive(deadPid())).toBe(false);
  });
});

describe("acquireLock", () => {
  test("creates parent dirs and the lock file with owner details; release removes it once", async () => {
    const file = lockPath();
    const lock = await acquireLock(file, { runId: "r1", command: "backup" });
    const info = JSON.parse(readFileSync(file, "utf8"));
    expect(info).toMatchObject({ pid: process.pid, runId: "r1", command: "backup", hostname: hostname() });
    expect(info.processStartTime).toBe(processStartTime(process.pid));
    expect(statSync(join(file, "..")).mode & 0o777).toBe(0o755);
    lock.release();
    lock.release();
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(join(file, ".."))).toEqual([]);
  });

  test("a live holder makes the second attempt fail with `locked`, naming pid, command and start", async () => {
    const file = lockPath();
    const lock = await acquireLock(file, { runId: "r1", command: "backup" });
    const err = await acquireLock(file, { runId: "r2", command: "restore" }).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe("locked");
    expect(err.message).toContain(`pid ${process.pid}`);
    expect(err.message).toContain("kopi-docka backup");
    expect(err.message).toContain("started 20");
    // restore has no --wait: the hint must not offer one it would reject as an unknown option.
    expect(err.hint).toBe("run this again once it has ended");
    lock.release();
  });

  test("a command that takes --wait (wait: false given) is offered it", async () => {
    const file = lockPath();
    const lock = await acquireLock(file, { runId: "r1", command: "backup" });
    const err = await acquireLock(file, { runId: "r2", command: "recover", wait: false }).catch((e) => e);
    expect(err.code).toBe("locked");
    expect(err.hint).toBe("wait for it, or pass --wait");
    lock.release();
  });

  test("release leaves a lock that is no longer ours alone", async () => {
    const file = lockPath();
    const lock = await acquireLock(file, { runId: "r1", command: "backup" });
    writeStaleLock(file, process.pid, { runId: "someone-else" });
    lock.release();
    expect(JSON.parse(readFileSync(file, "utf8")).runId).toBe("someone-else");
  });

  test("a stale lock (dead pid) is taken over", async () => {
    const file = lockPath();
    await acquireLock(file, { runId: "r0", command: "x" }).then((l) => l.release());
    writeStaleLock(file);
    const lock = await acquireLock(file, { runId: "r1", command: "backup" });
    expect(JSON.parse(readFileSync(file, "utf8")).runId).toBe("r1");
    // Named, so recovery can end what the dead run left running.
    expect(lock.tookOverFrom).toMatchObject({ runId: "old-run", processStartTime: 1 });
    lock.release();
    const fresh = await acquireLock(file, { runId: "r2", command: "backup" });
    expect(fresh.tookOverFrom).toBeUndefined();
    fresh.release();
  });

  test("a reused pid (live process, other start time) does not keep a lock", async () => {
    const file = lockPath();
    await acquireLock(file, { runId: "r0", command: "x" }).then((l) => l.release());
    writeStaleLock(file, process.pid, { processStartTime: (processStartTime(process.pid) ?? 0) + 7 });
    const lock = await acquireLock(file, { runId: "r1", command: "backup" });
    lock.release();
  });

  test("an unreadable lock file and a takeover guard left by a crashed racer are both recovered", async () => {
    const file = lockPath();
    await acquireLock(file, { runId: "r0", command: "x" }).then((l) => l.release());
    writeFileSync(file, "garbage");
    writeStaleLock(`${file}.takeover-${statSync(file).ino}`);
    const lock = await acquireLock(file, { runId: "r1", command: "backup" });
    expect(JSON.parse(readFileSync(file, "utf8")).runId).toBe("r1");
    lock.release();
    expect(readdirSync(join(file, ".."))).toEqual([]);
  });

  test("wait: polls until the holder releases", async () => {
    const file = lockPath();
    const first = await acquireLock(file, { runId: "r1", command: "backup" });
    setTimeout(() => first.release(), 150);
    const started = Date.now();
    const second = await acquireLock(file, { runId: "r2", command: "backup", wait: true, pollMs: 20 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(JSON.parse(readFileSync(file, "utf8")).runId).toBe("r2");
    second.release();
  });

  test("wait: aborting the signal ends the wait with its reason", async () => {
    const file = lockPath();
    const first = await acquireLock(file, { runId: "r1", command: "backup" });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new AppError("interrupted", "interrupted by SIGTERM")), 50);
    const err = await acquireLock(file, {
      runId: "r2",
      command: "backup",
      wait: true,
      signal: ac.signal,
      pollMs: 10,
    }).catch((e) => e);
    expect(err.code).toBe("interrupted");
    first.release();
  });

  test("racing processes: exactly one takes a stale lock, every round", async () => {
    const file = lockPath();
    await acquireLock(file, { runId: "r0", command: "x" }).then((l) => l.release());
    const script = join(import.meta.dir, "..", "..", "..", "fixtures", "signal-lock-race.ts");
    for (let round = 0; round < 3; round++) {
      writeStaleLock(file);
      const startAt = Date.now() + 800;
      const runner = createBunRunner();
      const outs = (
        await Promise.all(
          Array.from({ length: 6 }, () =>
            runner.run([process.execPath, script, file, String(startAt), "1000"]),
          ),
        )
      ).map((r) => r.stdout);
      const won = outs.filter((o) => o.startsWith("won"));
      const locked = outs.filter((o) => o.startsWith("locked locked"));
      expect({ won: won.length, locked: locked.length }).toEqual({ won: 1, locked: 5 });
      expect(existsSync(file)).toBe(false);
      expect(readdirSync(join(file, ".."))).toEqual([]);
    }
  }, 30_000);
});

describe("a lock written under another host name (issue 14: a renamed host never backed up again)", () => {
  const boot = currentBootId() as string;
  const renamed = { hostname: "old-name-of-this-host", bootId: boot };

  test("same boot of this kernel, dead pid: stale, taken over", async () => {
    const file = lockPath();
    await acquireLock(file, { runId: "setup", command: "backup" }).then((l) => l.release());
    writeStaleLock(file, deadPid(), renamed);
    const lock = await acquireLock(file, { runId: "r1", command: "backup" });
    expect(JSON.parse(readFileSync(file, "utf8")).runId).toBe("r1");
    lock.release();
  });

  test("same boot, live pid: still held", async () => {
    const file = lockPath();
    await acquireLock(file, { runId: "setup", command: "backup" }).then((l) => l.release());
    writeStaleLock(file, process.pid, { ...renamed, processStartTime: processStartTime(process.pid) });
    const err = await acquireLock(file, { runId: "r2", command: "backup", wait: false }).catch((e) => e);
    expect(err.code).toBe("locked");
    expect(err.hint).toBe("wait for it, or pass --wait");
  });

  test("another kernel under another name cannot be checked: held, and the hint says how to clear it", async () => {
    const file = lockPath();
    await acquireLock(file, { runId: "setup", command: "backup" }).then((l) => l.release());
    writeStaleLock(file, deadPid(), { hostname: "nas-2", bootId: "00000000-0000-0000-0000-000000000000" });
    const err = await acquireLock(file, { runId: "r3", command: "backup" }).catch((e) => e);
    expect(err.code).toBe("locked");
    expect(err.message).toContain("on host nas-2");
    expect(err.hint).toContain(`if no kopi-docka runs there, remove ${file}`);
  });

  test("same kernel, another pid namespace (a container): its pid means nothing here, held", async () => {
    const file = lockPath();
    await acquireLock(file, { runId: "setup", command: "backup" }).then((l) => l.release());
    writeStaleLock(file, deadPid(), { hostname: "a-container", bootId: boot, pidNamespace: "pid:[1]" });
    const err = await acquireLock(file, { runId: "r4", command: "backup" }).catch((e) => e);
    expect(err.code).toBe("locked");
    expect(err.hint).toContain("another pid namespace");
    expect(err.hint).toContain(`remove ${file}`);
  });
});
