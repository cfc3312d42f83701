import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { removeDockerObjects } from "../helpers/cleanup.ts";
import { cliWith } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

/** kopia's `--full-interval` kopi-docka sets on a repository it creates: 160 h, in nanoseconds. */
const INTERVAL_NS = 160 * 3_600 * 1e9;

interface GcRun {
  start: string;
  success?: boolean;
  extra?: { kind: string; data: { unreferencedRecentContentSize?: number } }[];
}

// Space held by expired restore points comes back only through kopia's FULL maintenance. The nightly
// backup runs it, as the maintenance owner, when kopia's schedule says it is due, after every
// container runs again, through the guard of `repo maintenance --full`. On a filesystem repository:
// one point kept (`latest = 1`), a random file replaced between backups, so the expired point's
// data is the garbage full maintenance's snapshot GC finds (kopia deletes it only a day later).
describeReal("full maintenance after a backup", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-full-maint-");
  const name = uniqueName("s20f8-full");
  const kd = join(dir.path, "kd");
  const config = writeTestConfig(
    kd,
    "[retention]\nlatest = 1\nhourly = 0\ndaily = 0\nweekly = 0\nmonthly = 0\nannual = 0\n[backup]\nstop_timeout = 2\n",
  );
  const { cli, json } = cliWith(config);
  const kopia = async (...args: string[]) =>
    run(["kopia", "--config-file", join(kd, "state", "kopia", "repository.config"), ...args], {
      env: { KOPIA_PASSWORD: readFileSync(join(kd, "repository.password"), "utf8").trim() },
    });
  const info = async () => JSON.parse((await kopia("maintenance", "info", "--json")).stdout);
  const gcRuns = async (): Promise<GcRun[]> => (await info()).schedule.runs?.["snapshot-gc"] ?? [];
  const newData = () =>
    run(["docker", "exec", name, "sh", "-c", "head -c 300000 /dev/urandom > /data/random"]);
  const backUp = async () => {
    const r = await cli("backup", "--unit", name);
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    return (await json("history", "--last", "1"))[0];
  };

  beforeAll(async () => {
    await startContainer(name, `${name}-v`);
    await newData();
  }, 60_000);

  afterAll(async () => {
    await removeDockerObjects([name], [`${name}-v`]);
    dir.remove();
  }, 60_000);

  test("a repository the first backup creates: full maintenance weekly, the first one a week away", async () => {
    const record = await backUp();
    const i = await info();
    expect(i.owner).toBe("kopi-docka@kd-test-host");
    expect(i.full).toMatchObject({ enabled: true, interval: INTERVAL_NS });
    expect(Date.parse(i.schedule.nextFullMaintenance) - Date.now()).toBeGreaterThan(159 * 3_600_000);
    expect(await gcRuns()).toEqual([]);
    expect(record.maintenance?.some((m: { kind: string }) => m.kind === "full")).toBeFalsy();
  }, 120_000);

  test("due: the next backup runs it once the container runs again, kopia's GC finds the expired point's data", async () => {
    await newData();
    const expiring = await backUp();
    expect(expiring.expired).toHaveLength(1);
    expect(await gcRuns()).toEqual([]); // not due yet: only quick
    expect((await kopia("maintenance", "set", "--pause-full=0s")).exitCode).toBe(0);

    const record = await backUp();
    const full = record.maintenance.find((m: { kind: string }) => m.kind === "full");
    expect(full).toMatchObject({ status: "ok", durationMs: expect.any(Number), checkMs: expect.any(Number) });
    expect(record.errors).toEqual([]);
    const [gc] = await gcRuns();
    expect(gc?.success).toBe(true);
    // the point expired last run: unreferenced now, younger than kopia's one-day safety margin
    const stats = gc?.extra?.find((e) => e.kind === "snapshotGCStats")?.data;
    expect(stats?.unreferencedRecentContentSize ?? 0).toBeGreaterThan(250_000);
    // after the container's restart, and scheduled a full interval on
    const started = (await run(["docker", "inspect", "-f", "{{.State.StartedAt}}", name])).stdout.trim();
    expect(Date.parse(gc?.start ?? "")).toBeGreaterThan(Date.parse(started));
    expect(Date.parse((await info()).schedule.nextFullMaintenance) - Date.now()).toBeGreaterThan(
      159 * 3_600_000,
    );
    const detail = (await cli("history", "--id", record.runId)).stdout;
    expect(detail).toMatch(/maintenance full: ok, [\d.]+s \(check [\d.]+s\)/);
  }, 180_000);
});
