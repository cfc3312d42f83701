import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runBackup } from "../../src/core/backup/run.ts";
import { READ_ENV } from "../../src/core/kopia/gate.ts";
import {
  describeReal,
  run,
  TEST_IMAGE,
  tempDir,
  uniqueName,
  volumeMountpoint,
  writeTestConfig,
} from "../helpers/env.ts";
import { coreDeps, inspectState } from "./backup-helpers.ts";

// backup.max_cold_seconds against a repository that stops answering: the kopia process snapshotting
// the first unit's volume is frozen (SIGSTOP) once its container is stopped, as a hung network
// repository or a stuck disk would leave it. The bound must cancel it, start the container, fail
// that unit with the reason, and go on to the next unit.
const MAX_COLD = 3;
const IDLE = "trap 'exit 0' TERM; while true; do sleep 0.2; done";

describeReal("max_cold_seconds: a hung snapshot is cancelled", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-maxcold-");
  const hung = uniqueName("kdt-maxcold-a");
  const fine = uniqueName("kdt-maxcold-b");
  let deps: ReturnType<typeof coreDeps>;
  let mountpoint = "";

  beforeAll(async () => {
    const config = writeTestConfig(
      join(dir.path, "kd"),
      `[backup]\nstop_timeout = 5\nmax_cold_seconds = ${MAX_COLD}\n`,
    );
    deps = coreDeps(config);
    for (const n of [hung, fine]) {
      await run(["docker", "volume", "create", `${n}-v`]);
      await run(["docker", "run", "-d", "--name", n, "-v", `${n}-v:/data`, TEST_IMAGE, "sh", "-c", IDLE]);
    }
    await run(["docker", "exec", hung, "sh", "-c", "echo payload > /data/f"]);
    mountpoint = await volumeMountpoint(`${hung}-v`);
  }, 120_000);

  afterAll(async () => {
    for (const n of [hung, fine]) {
      await run(["docker", "rm", "-f", n], { check: false });
      await run(["docker", "volume", "rm", "-f", `${n}-v`], { check: false });
    }
    dir.remove();
  }, 60_000);

  /** kopia processes snapshotting `path` (by their argv). */
  function kopiaOf(path: string): number[] {
    const out: number[] = [];
    for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
      try {
        const argv = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
        if (argv[0]?.endsWith("kopia") && argv.includes("create") && argv.includes(path)) out.push(Number(p));
      } catch {
        // gone
      }
    }
    return out;
  }

  /** Whether kopia `pid` runs its after-snapshot-root action (a child shell running that script). */
  function inAfterAction(pid: number): boolean {
    for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid === pid && readFileSync(`/proc/${p}/cmdline`, "utf8").includes("after-snapshot-root"))
          return true;
      } catch {
        // gone
      }
    }
    return false;
  }

  /** kopia's read marker (`kopia/gate.ts` READ_ENV) from its environment, once it has one. */
  function readMarkerOf(pid: number): string | undefined {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      return env.find((v) => v.startsWith(`${READ_ENV}=`))?.slice(READ_ENV.length + 1);
    } catch {
      return undefined;
    }
  }

  /**
   * One backup of both units with the hung unit's kopia stuck. "read": frozen (SIGSTOP) as soon as its
   * container is down (a large new file keeps kopia reading: the bound cancels inside the cold window).
   * "save": frozen after it has read its whole tree and before it saves (the containers come back at
   * once; the bound cancels the hung save instead of waiting for it forever). A SIGSTOP between the
   * read marker and the save lost the race on a fresh CI machine (the save of one small file takes
   * milliseconds), so the marker itself is made a fifo while kopia waits at its gate: its
   * after-snapshot-root action blocks opening it, and kopia is frozen there, before its manifest write,
   * with no hurry. Only frozen: kopia ignores a failed after-action, so once the bound's SIGTERM ended
   * the blocked shell a running kopia would save. kopi-docka only checks that the marker exists, so it
   * starts the containers at the release.
   */
  async function hangOnce(phase: "read" | "save") {
    let stoppedAt = 0;
    let frozen: number[] = [];
    let watching = true;
    // Every gated kopia of the volume, until the run ends: one opened ahead may be dropped for another.
    const stuckAfterRead = async () => {
      const blocked = new Set<number>();
      while (watching) {
        for (const pid of kopiaOf(mountpoint)) {
          const path = readMarkerOf(pid);
          if (!path || existsSync(path)) continue;
          await run(["mkfifo", "-m", "600", path]);
          blocked.add(pid);
        }
        for (const pid of blocked)
          if (inAfterAction(pid)) {
            process.kill(pid, "SIGSTOP");
            frozen.push(pid);
            blocked.delete(pid);
          }
        await Bun.sleep(5);
      }
    };
    const freezeOnStop = async () => {
      while (watching && frozen.length === 0) {
        if (!(await inspectState(hung)).Running) {
          stoppedAt = Date.now();
          frozen = kopiaOf(mountpoint);
          for (const pid of frozen) process.kill(pid, "SIGSTOP");
        }
        await Bun.sleep(20);
      }
    };
    const watcher = phase === "read" ? freezeOnStop() : stuckAfterRead();
    const record = await runBackup(deps, { units: [hung, fine] });
    watching = false;
    await watcher;
    expect(frozen.length).toBeGreaterThan(0);
    const state = await inspectState(hung);
    expect(state.Running).toBe(true);
    // "save": down from docker's own stop time; the bound must not have been waited for.
    const downMs =
      Date.parse(state.StartedAt) - (phase === "read" ? stoppedAt : Date.parse(state.FinishedAt));
    if (phase === "save") expect(downMs).toBeLessThan(MAX_COLD * 1000);
    console.log(`max-cold (${phase}): down ${downMs} ms with max_cold_seconds = ${MAX_COLD}`);
    // the bound, 1 s for kopia to give up, and the start (generous: a loaded 2-core machine)
    expect(downMs).toBeLessThan((MAX_COLD + 1 + 5) * 1000);
    const [a, b] = record.units;
    expect(a?.name).toBe(hung);
    expect(a?.status).toBe("failed");
    expect(a?.restartFailed).toEqual([]);
    const vol = a?.sources.find((s) => s.type === "volume");
    expect(vol?.status).toBe("failed");
    expect(vol?.reason).toContain(
      phase === "read"
        ? `the cold window passed max_cold_seconds (${MAX_COLD} s)`
        : `its save hung for max_cold_seconds (${MAX_COLD} s)`,
    );
    expect(a?.errors.some((e) => e.phase === "snapshot" && e.message.includes("max_cold_seconds"))).toBe(
      true,
    );
    expect(b).toMatchObject({ name: fine, status: "ok" });
    expect((await inspectState(fine)).Running).toBe(true);
    for (const pid of frozen) expect(() => process.kill(pid, 0)).toThrow();
  }

  test(`a hung read: the unit runs again within ${MAX_COLD} s + kill grace + start; it fails with the reason; the next unit is backed up`, async () => {
    await run(["docker", "exec", hung, "sh", "-c", "head -c 300000000 /dev/urandom > /data/big"]);
    await hangOnce("read");
  }, 180_000);

  test("a hung save after the read: the containers are back at once, the save is cancelled after the bound, the run goes on", async () => {
    await run(["docker", "exec", hung, "sh", "-c", "rm -f /data/big"]);
    await hangOnce("save");
  }, 180_000);
});
