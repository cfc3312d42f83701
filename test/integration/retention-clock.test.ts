import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDockerObjects } from "../helpers/cleanup.ts";
import { cliWith } from "../helpers/cli.ts";
import { describeReal, run, runTestContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

const DAY = 86_400_000;
/** kopia's `--start-time` format. */
const kopiaTime = (d: Date) => `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;

// A backup under a clock set ahead dates its point by that clock, and retention, counting each bucket
// back from the newest point, expired real points for good. Here the history is dated in the past
// instead (kopia takes a snapshot's start time from `--start-time`): 15 nightly points 60 to 46 days
// ago, with no run record of this host beside them, then a real backup now. Seen from the host, that
// is a 46-day jump nothing explains (a clock set ahead, or a host that was off): retention keeps the 6
// points it would remove, says so, and `snapshots expire --trust-clock` is how the admin says it was
// time that passed. Default [retention]: 10 latest, 7 daily, 4 weekly, 12 monthly, 3 annual.
describeReal("retention across a jump in the host's clock", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-retention-clock-");
  const name = uniqueName("s20f5-clock");
  const data = join(dir.path, "data");
  const kd = join(dir.path, "kd");
  const config = writeTestConfig(kd);
  const { cli, json } = cliWith(config);
  const kopia = (...args: string[]) =>
    run(["kopia", "--config-file", join(kd, "state", "kopia", "repository.config"), ...args], {
      env: { KOPIA_PASSWORD: readFileSync(join(kd, "repository.password"), "utf8").trim() },
    });
  const history: string[] = [];
  const pointKeys = async (): Promise<string[]> =>
    (await json("snapshots")).points.map((p: { key: string }) => p.key);
  const lastRecord = async () => (await json("history", "--last", "1"))[0];

  beforeAll(async () => {
    mkdirSync(data);
    writeFileSync(join(data, "f"), "payload");
    await runTestContainer(name, ["-v", `${data}:/data`]);
    expect((await cli("repo", "init")).exitCode).toBe(0);
    // Sets kopi-docka@HOST's policy (kopia's own retention off) before kopia is given any snapshot.
    expect((await cli("snapshots", "expire")).exitCode).toBe(0);
    const recipe = join(dir.path, "recipe");
    mkdirSync(recipe);
    writeFileSync(join(recipe, "unit.json"), "{}");
    for (let d = 60; d >= 46; d--) {
      const at = new Date(Date.now() - d * DAY);
      const runId = `${at.toISOString().replace(/[-:]/g, "").slice(0, 15)}Z-00${d}`;
      history.push(`${name}@${runId}-01`);
      const tags = {
        unit: name,
        backup_id: `${runId}-01`,
        run_id: runId,
        type: "recipe",
        timestamp: at.toISOString(),
      };
      await kopia(
        "snapshot",
        "create",
        recipe,
        "--override-source",
        `kopi-docka@kd-test-host:/kopi-docka/${name}/recipe`,
        "--start-time",
        kopiaTime(at),
        "--end-time",
        kopiaTime(at),
        ...Object.entries(tags).flatMap(([k, v]) => ["--tags", `${k}:${v}`]),
      );
    }
  }, 180_000);

  afterAll(async () => {
    await removeDockerObjects([name], []);
    dir.remove();
  }, 60_000);

  test("a backup 46 days after the unit's last point: no point expired; the run, its record and expire --dry-run say which are kept and why", async () => {
    expect((await pointKeys()).sort()).toEqual([...history].sort());
    const preview = (await json("backup", "--unit", name, "--dry-run")).retention;
    expect(preview).toMatchObject({
      remove: [],
      held: [{ unit: name, points: history.slice(0, 6).reverse() }],
    });
    const r = await cli("backup", "--unit", name);
    expect(r.exitCode).toBe(0);
    const kept = `retention kept 6 point(s) of ${name} it would remove (${history.slice(0, 6).reverse().join(", ")})`;
    expect(r.stderr).toContain(kept);
    expect(r.stderr).toContain("`kopi-docka snapshots expire --trust-clock`, once");
    const record = await lastRecord();
    expect(record.expired).toBeUndefined();
    expect(record.warnings).toEqual([expect.stringContaining(kept)]);
    expect(record.clock).toMatchObject({ bootId: expect.any(String), uptimeMs: expect.any(Number) });
    expect(await pointKeys()).toHaveLength(16);
    const dry = await json("snapshots", "expire", "--dry-run");
    expect(dry.remove).toEqual([]);
    expect(dry.held).toEqual([
      {
        unit: name,
        points: history.slice(0, 6).reverse(),
        reason: expect.stringContaining(`--run ${record.runId}`),
      },
    ]);
  }, 180_000);

  test("expire --trust-clock: the gap is time that passed, recorded; the 6 points go and the next backup warns no more", async () => {
    const runId = (await lastRecord()).runId;
    const dry = await json("snapshots", "expire", "--dry-run", "--trust-clock");
    expect(dry.remove.map((p: { key: string }) => p.key).sort()).toEqual(history.slice(0, 6).sort());
    expect(dry.trusted).toEqual([expect.objectContaining({ runId })]);
    const trustFile = join(kd, "state", "clock-trusted.json");
    expect(existsSync(trustFile)).toBe(false);
    const done = await json("snapshots", "expire", "--trust-clock");
    expect(done.remove).toHaveLength(6);
    expect(JSON.parse(readFileSync(trustFile, "utf8"))).toEqual({ runs: [runId] });
    const keys = await pointKeys();
    expect(keys).toHaveLength(10); // the real point and the 9 newest of the history
    expect(keys.filter((k) => history.includes(k)).sort()).toEqual(history.slice(6).sort());
    const next = await cli("backup", "--unit", name);
    expect(next.exitCode).toBe(0);
    expect(next.stderr).not.toContain("retention kept");
    expect((await lastRecord()).warnings).toBeUndefined();
  }, 180_000);
});
