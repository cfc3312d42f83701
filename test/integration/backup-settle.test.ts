import { afterAll, expect, test } from "bun:test";
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

interface UnitJson {
  name: string;
  status: string;
  restartFailed: string[];
  errors: { phase: string; item?: string; message: string }[];
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
    const all = [later, atOnce, good];
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
  },
);
