import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDockerObjects } from "../helpers/cleanup.ts";
import { cliWith } from "../helpers/cli.ts";
import { describeReal, run, runTestContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** kopia's `--start-time` format. */
const kopiaTime = (d: Date) => `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;

// A run under a clock set back dates its point among real points of that date, and retention,
// counting by the dates, expired it at the next run. Here: 20 nightly points 20 to 1 days ago, a real
// backup now, then the run numbered after it whose clock says 15 days ago, an hour before that
// night's point: dated so, it takes no slot and was removed. Of the same boot an hour later (by the
// uptime in its record), or after a reboot (a dead RTC battery: only the runs' numbers order them).
// Default [retention]: 10 latest, 7 daily, 4 weekly, 12 monthly, 3 annual.
for (const reboot of [false, true])
  describeReal(
    `retention after a clock set back${reboot ? ", across a reboot" : ""}`,
    ["docker", "kopia", "image"],
    () => {
      const dir = tempDir("kdt-retention-back-");
      const name = uniqueName(reboot ? "s22-clock-reboot" : "s22-clock-back");
      const data = join(dir.path, "data");
      const kd = join(dir.path, "kd");
      const config = writeTestConfig(kd);
      const { cli, json } = cliWith(config);
      const runsDir = join(kd, "state", "runs");
      const kopia = (...args: string[]) =>
        run(["kopia", "--config-file", join(kd, "state", "kopia", "repository.config"), ...args], {
          env: { KOPIA_PASSWORD: readFileSync(join(kd, "repository.password"), "utf8").trim() },
        });
      const recipe = join(dir.path, "recipe");
      /** A point of one recipe snapshot dated `at`, as kopi-docka tags it. */
      const pointAt = async (at: Date, runId: string) => {
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
        return `${name}@${runId}-01`;
      };
      const behindRun = "20260101T000000Z-0000bb";
      let behindKey = "";

      beforeAll(async () => {
        mkdirSync(data);
        writeFileSync(join(data, "f"), "payload");
        mkdirSync(recipe);
        writeFileSync(join(recipe, "unit.json"), "{}");
        await runTestContainer(name, ["-v", `${data}:/data`]);
        expect((await cli("repo", "init")).exitCode).toBe(0);
        expect((await cli("snapshots", "expire")).exitCode).toBe(0);
        for (let d = 20; d >= 1; d--) {
          const at = new Date(Date.now() - d * DAY);
          await pointAt(
            at,
            `${at.toISOString().replace(/[-:]/g, "").slice(0, 15)}Z-0000${String(d).padStart(2, "0")}`,
          );
        }
        expect((await cli("backup", "--unit", name)).exitCode).toBe(0);
        // The run after it: its clock 15 days back; on the same boot its record says an hour of uptime
        // later, after a reboot a minute after that boot's start, the next number all that orders them.
        const [file] = readdirSync(runsDir).filter((f) => f.endsWith(".json"));
        const real = JSON.parse(readFileSync(join(runsDir, file as string), "utf8"));
        expect(real.sequence).toBe(1);
        const behind = new Date(Date.now() - 15 * DAY - HOUR);
        const clock = reboot
          ? { at: behind.toISOString(), bootId: "s22-another-boot", uptimeMs: 60_000 }
          : { ...real.clock, at: behind.toISOString(), uptimeMs: real.clock.uptimeMs + HOUR };
        const record = { ...real, runId: behindRun, startedAt: behind.toISOString(), clock, sequence: 2 };
        writeFileSync(join(runsDir, `${behindRun}.json`), JSON.stringify(record), { mode: 0o600 });
        behindKey = await pointAt(behind, behindRun);
      }, 300_000);

      afterAll(async () => {
        await removeDockerObjects([name], []);
        dir.remove();
      }, 60_000);

      test("expire --dry-run keeps the point dated back and says why", async () => {
        const dry = await json("snapshots", "expire", "--dry-run");
        expect(dry.remove).toEqual([]);
        expect(dry.kept).toContainEqual({ key: behindKey, reasons: ["clock-back"] });
        expect(dry.held).toEqual([
          {
            unit: name,
            points: expect.arrayContaining([behindKey]),
            reason: expect.stringContaining(
              reboot ? "before the run numbered before it, across a reboot" : "on the same boot",
            ),
          },
        ]);
      }, 120_000);

      test("expire --trust-clock counts by the dates as they are: the point goes, the run is recorded", async () => {
        const dry = await json("snapshots", "expire", "--dry-run", "--trust-clock");
        expect(dry.remove.map((p: { key: string }) => p.key)).toContain(behindKey);
        expect(dry.trusted).toEqual([expect.objectContaining({ runId: behindRun, back: true })]);
        const done = await json("snapshots", "expire", "--trust-clock");
        expect(done.remove.map((p: { key: string }) => p.key)).toContain(behindKey);
        expect(JSON.parse(readFileSync(join(kd, "state", "clock-trusted.json"), "utf8"))).toEqual({
          runs: [behindRun],
        });
        expect((await json("snapshots", "expire", "--dry-run")).held).toEqual([]);
      }, 120_000);
    },
  );
