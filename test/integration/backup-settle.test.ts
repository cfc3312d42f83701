import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import {
  describeReal,
  QUICK_STOP,
  run,
  startContainer,
  tempDir,
  uniqueName,
  writeTestConfig,
} from "../helpers/env.ts";
import { inspectState } from "./backup-helpers.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };
/** Runs the first time; every later start (the backup's, then its restart policy's) crashes after 1 s. */
const CRASHES_LATER = `[ -e /data/started ] && { sleep 1; exit 1; }; touch /data/started; ${QUICK_STOP}`;
/** The same, crashing at once: between attempts docker reads Running=true, Restarting=true. */
const CRASHES_AT_ONCE = `[ -e /data/started ] && exit 1; touch /data/started; ${QUICK_STOP}`;
/**
 * Crashes on the first start after each stop (after 1 s, or at once), runs from its policy's restart
 * on: an app started before its database accepts connections. Its stop clears the mark.
 */
const RUNS_MARKED = "trap 'rm -f /data/started; exit 0' TERM; while true; do sleep 0.2; done";
const CRASHES_ONCE_LATER = `[ -e /data/started ] && { ${RUNS_MARKED}; }; touch /data/started; sleep 1; exit 1`;
const CRASHES_ONCE_AT_ONCE = `[ -e /data/started ] && { ${RUNS_MARKED}; }; touch /data/started; exit 1`;
/**
 * Crashes 2 s into each of its first two starts after a stop (a counter its stop sets to 0), then
 * runs: an app whose database takes two of docker's restart delays to accept connections. The
 * crashes fall between the backup's looks, 3 s apart: another incarnation at the first and second
 * look, the last one still running at the third.
 */
const CRASHES_TWICE_LATER = [
  "c=$(cat /data/crashes 2>/dev/null)",
  'if [ -n "$c" ] && [ "$c" -lt 2 ]; then echo $((c + 1)) > /data/crashes; sleep 2; exit 1; fi',
  "trap 'echo 0 > /data/crashes; exit 0' TERM; while true; do sleep 0.2; done",
].join("; ");
/** A one-off job (policy no): runs the first time, exits 0 at every later start. */
const ONE_OFF = `[ -e /data/started ] && exit 0; touch /data/started; ${QUICK_STOP}`;

interface UnitJson {
  name: string;
  status: string;
  restartFailed: string[];
  errors: { phase: string; item?: string; message: string }[];
  warnings?: string[];
}

// `docker start` returns once the process runs, and docker reads Running=true for a container its
// restart policy keeps restarting: the backup looks again a few seconds after its starts, and one in
// a crash loop then is its failed start (exit 4, named), never an OK.
describeReal(
  "backup: a container that crash-loops after the backup started it",
  ["docker", "kopia", "image"],
  () => {
    const dir = tempDir("kd-bk-settle-");
    const config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\nstart_timeout = 5\n");
    const later = uniqueName("s20f1-later");
    const atOnce = uniqueName("s20f1-atonce");
    const good = uniqueName("s20f1-good");
    const onceLater = uniqueName("s21d12-once-later");
    const onceAtOnce = uniqueName("s21d12-once-atonce");
    const oneOff = uniqueName("s21d12-oneoff");
    const twice = uniqueName("s22-twice");
    const all = [later, atOnce, good, onceLater, onceAtOnce, oneOff, twice];
    const backup = (...units: string[]) =>
      runCli(["backup", "--config", config, ...units.flatMap((u) => ["--unit", u]), "--json"], { env });

    afterAll(async () => {
      await run(["docker", "rm", "-f", ...all], { check: false });
      await run(["docker", "volume", "rm", "-f", ...all.map((n) => `${n}-v`)], { check: false });
      dir.remove();
    }, 60_000);

    test("crash-looping under restart: always: exit 4, each named with its state; a healthy one's backup is unchanged", async () => {
      await startContainer(later, `${later}-v`, ["--restart", "always"], CRASHES_LATER);
      await startContainer(atOnce, `${atOnce}-v`, ["--restart", "always"], CRASHES_AT_ONCE);
      await startContainer(good, `${good}-v`, ["--restart", "always"]);
      await Bun.sleep(500);

      const r = await backup(later, atOnce);
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 4 });
      expect(r.stderr).toContain("CONTAINERS NOT RUNNING AGAIN:");
      for (const name of [later, atOnce]) expect(r.stderr).toContain(`${name} is not running (restarting)`);
      const record = JSON.parse(r.stdout);
      expect(record.status).toBe("restart_failed");
      for (const name of [later, atOnce]) {
        const unit: UnitJson = record.units.find((u: UnitJson) => u.name === name);
        expect(unit).toMatchObject({ status: "failed", restartFailed: [name] });
        // Its data was read cold all the same: the start is all that failed.
        expect(unit.errors.map((e) => [e.phase, e.item])).toEqual([["start", name]]);
        expect(unit.errors[0]?.message).toStartWith("restarting: ");
      }
      const loop: UnitJson = record.units.find((u: UnitJson) => u.name === later);
      expect(loop.errors[0]?.message).toMatch(/restart policy/);

      const before = await inspectState(good);
      const ok = await backup(good);
      expect({ exit: ok.exitCode, stderr: ok.stderr }).toMatchObject({ exit: 0 });
      expect(JSON.parse(ok.stdout).units[0]).toMatchObject({ name: good, status: "ok", restartFailed: [] });
      const after = await inspectState(good);
      expect(after.Running).toBe(true);
      expect(after.StartedAt).not.toBe(before.StartedAt);
    }, 120_000);

    test("crashed once after the start, then runs (restart: always, on-failure): exit 0, a warning; a one-off job that exits 0: finished", async () => {
      await startContainer(onceLater, `${onceLater}-v`, ["--restart", "always"], CRASHES_ONCE_LATER);
      await startContainer(onceAtOnce, `${onceAtOnce}-v`, ["--restart", "on-failure"], CRASHES_ONCE_AT_ONCE);
      await startContainer(oneOff, `${oneOff}-v`, [], ONE_OFF);
      // The first start crashes too (no mark yet): running once its policy has started it again.
      for (let i = 0; i < 50 && !(await inspectState(onceLater)).Running; i++) await Bun.sleep(200);
      await Bun.sleep(1500);
      for (const name of [onceLater, onceAtOnce, oneOff])
        expect((await inspectState(name)).Running).toBe(true);

      const r = await backup(onceLater, onceAtOnce, oneOff);
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      const record = JSON.parse(r.stdout);
      expect(record.status).toBe("ok");
      for (const name of [onceLater, onceAtOnce]) {
        const unit: UnitJson = record.units.find((u: UnitJson) => u.name === name);
        expect(unit).toMatchObject({ status: "ok", restartFailed: [], errors: [] });
        expect(unit.warnings).toEqual([
          `${name} exited after the start and was restarted 1 time by its restart policy; it runs now (see why: docker logs ${name})`,
        ]);
        expect((await inspectState(name)).Running).toBe(true);
      }
      const job: UnitJson = record.units.find((u: UnitJson) => u.name === oneOff);
      expect(job).toMatchObject({ status: "ok", restartFailed: [], errors: [] });
      expect(job.warnings).toEqual([
        `${oneOff} ran and exited 0 after the start (restart policy no): a one-off job that finished, not a failed start`,
      ]);
    }, 120_000);

    test("crashed twice after the start, a look apart, then runs (start_timeout 9: three looks): exit 0, a warning with both restarts", async () => {
      // 9 s to start: `settleLooks` gives three looks, SETTLE_MS apart; the third sees it run steadily.
      const startTimeout = 9;
      const threeLooks = writeTestConfig(
        join(dir.path, "three-looks"),
        `[backup]\nstop_timeout = 2\nstart_timeout = ${startTimeout}\n`,
      );
      await startContainer(twice, `${twice}-v`, ["--restart", "always"], CRASHES_TWICE_LATER);
      await Bun.sleep(500);
      expect((await inspectState(twice)).Running).toBe(true);

      const r = await runCli(["backup", "--config", threeLooks, "--unit", twice, "--json"], { env });
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      const record = JSON.parse(r.stdout);
      expect(record.status).toBe("ok");
      expect(record.units[0]).toMatchObject({ name: twice, status: "ok", restartFailed: [], errors: [] });
      expect(record.units[0].warnings).toEqual([
        `${twice} exited after the start and was restarted 2 times by its restart policy; it runs now (see why: docker logs ${twice})`,
      ]);
      expect((await inspectState(twice)).Running).toBe(true);
      expect((await run(["docker", "exec", twice, "cat", "/data/crashes"])).stdout.trim()).toBe("2");
    }, 120_000);
  },
);
