import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDockerObjects } from "../helpers/cleanup.ts";
import { cliArgv, cliWith } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { whileBackupHolds, writeSlowHook } from "../helpers/held-backup.ts";
import { hasTmux, terminal } from "../helpers/terminal.ts";

interface Point {
  key: string;
  runId: string;
  backupId: string;
  complete: boolean;
  pins?: string[];
  recipe?: { id: string };
  volumes: { id: string }[];
}

// delete / pin / expire on a real repository holding four backup runs of one unit.
describeReal(
  "snapshots delete, pin, unpin, expire on a real repository",
  ["docker", "kopia", "image"],
  () => {
    const dir = tempDir("kdt-snapman-");
    const name = uniqueName("kdtsnap");
    const hook = join(dir.path, "hook.sh");
    const kd = join(dir.path, "kd");
    const retention = (latest: number) =>
      `\n[retention]\nlatest = ${latest}\nhourly = 0\ndaily = 0\nweekly = 0\nmonthly = 0\nannual = 0\n\n[units.${name}]\npre_backup = "${hook}"\n`;
    const config = writeTestConfig(kd, retention(10));
    const { cli, json } = cliWith(config);
    const points = async (): Promise<Point[]> => (await json("snapshots")).points;
    const latest = async () =>
      (await json("restore", "--unit", name, "--latest", "--dry-run")).point.backupId as string;
    /** kopia itself on the same repository, to cut a point in half as an interrupted delete would. */
    const kopia = (...args: string[]) =>
      run(["kopia", "--config-file", join(kd, "state", "kopia", "repository.config"), ...args], {
        env: { KOPIA_PASSWORD: readFileSync(join(kd, "repository.password"), "utf8").trim() },
      });
    const runs: string[] = [];

    beforeAll(async () => {
      writeSlowHook(hook, dir.path);
      await startContainer(name, name);
      for (let i = 1; i <= 4; i++) {
        await run(["docker", "exec", name, "sh", "-c", `echo run-${i} > /data/which`]);
        const r = await cli("backup", "--unit", name);
        expect(r.exitCode).toBe(0);
        const [rec] = await json("history", "--last", "1");
        runs.push(rec.runId);
      }
    }, 300_000);

    afterAll(async () => {
      await removeDockerObjects([name], [name]);
      dir.remove();
    }, 60_000);

    test("four complete points; --latest is the newest run", async () => {
      const ps = await points();
      expect(ps.map((p) => p.runId)).toEqual([...runs].reverse());
      expect(ps.every((p) => p.complete)).toBe(true);
      expect(await latest()).toBe(ps[0]?.backupId as string);
    });

    test("delete without --yes and no terminal: exit 2, nothing deleted; --dry-run lists the whole point", async () => {
      const before = await points();
      const r = await cli("snapshots", "delete", "--run", runs[3] as string);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain("pass --yes");
      const plan = await json("snapshots", "delete", "--run", runs[3] as string, "--dry-run");
      const p4 = before[0] as Point;
      expect(plan.points.map((p: Point) => p.key)).toEqual([p4.key]);
      expect(plan.snapshotIds[0]).toBe(p4.recipe?.id); // the recipe goes first
      expect(plan.snapshotIds).toHaveLength(plan.points[0].snapshots.length);
      expect(await points()).toEqual(before);
    });

    test("delete --run --yes: the point goes whole; --latest is the run before", async () => {
      const r = await cli("snapshots", "delete", "--run", runs[3] as string, "--yes");
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain("deleted 1 restore point(s)");
      const ps = await points();
      expect(ps.map((p) => p.runId)).toEqual([runs[2], runs[1], runs[0]] as string[]);
      expect(await latest()).toBe((ps[0] as Point).backupId);
    });

    test("a point cut in half (recipe gone, as a delete killed midway leaves it): --latest passes over it; --snapshot removes the rest", async () => {
      const p3 = (await points())[0] as Point;
      await kopia("snapshot", "delete", p3.recipe?.id as string, "--delete");
      const ps = await points();
      expect(ps[0]).toMatchObject({ key: p3.key, complete: false });
      expect(await latest()).toBe((ps[1] as Point).backupId);
      const r = await cli(
        "snapshots",
        "delete",
        "--snapshot",
        p3.volumes[0]?.id as string,
        "--yes",
        "--json",
      );
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout).points[0].key).toBe(p3.key);
      expect((await points()).map((p) => p.runId)).toEqual([runs[1], runs[0]] as string[]);
    });

    test("delete while a backup holds the lock: exit 11, nothing deleted", async () => {
      await whileBackupHolds(dir.path, name, config, async () => {
        const r = await cli("snapshots", "delete", "--run", runs[1] as string, "--yes");
        expect(r.exitCode).toBe(11);
        expect(r.stderr).toMatch(/lock/i);
        expect((await points()).map((p) => p.runId)).toEqual([runs[1], runs[0]] as string[]);
      });
    }, 120_000);

    test("pin --reason shows in snapshots; a pinned point refuses delete; expire (latest = 1) keeps it, --dry-run changes nothing", async () => {
      const pinned = await json("snapshots", "pin", "--run", runs[0] as string, "--reason", "audit 2026");
      expect(pinned.added).toEqual(["kopi-docka: audit 2026"]);
      expect(pinned.unchanged).toBeUndefined();
      // Pinning again changes nothing, and says so; without --run it names the flag.
      const again = await json("snapshots", "pin", "--run", runs[0] as string, "--reason", "audit 2026");
      expect(again.unchanged).toBe(true);
      const bare = await cli("snapshots", "pin");
      expect(bare.exitCode).toBe(2);
      expect(bare.stderr).toContain("name the run whose points to pin: --run ID");
      const ps = await points();
      expect(ps.find((p) => p.runId === runs[0])?.pins).toEqual(["kopi-docka: audit 2026"]);
      expect((await cli("snapshots")).stdout).toContain("kopi-docka: audit 2026");
      const refused = await cli("snapshots", "delete", "--run", runs[0] as string, "--yes");
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain("pinned");
      // one more run (retention 10 removes nothing), then latest = 1: expire keeps the newest unpinned point
      await cli("backup", "--unit", name);
      const [last] = await json("history", "--last", "1");
      writeFileSync(config, readFileSync(config, "utf8").replace(/latest = 10/, "latest = 1"));
      const before = await points();
      const dry = await json("snapshots", "expire", "--dry-run");
      expect(dry.dryRun).toBe(true);
      expect(await points()).toEqual(before);
      const done = await json("snapshots", "expire");
      expect(done.remove.map((p: Point) => p.runId)).toEqual([runs[1]]);
      expect(done.pinned).toEqual([`${name}@${before.find((p) => p.runId === runs[0])?.backupId}`]);
      expect((await points()).map((p) => p.runId)).toEqual([last.runId, runs[0]]);
      // a second expire finds nothing more; unpin, and the next expire takes the old point too
      expect((await json("snapshots", "expire")).remove).toEqual([]);
      const unpinned = await json("snapshots", "unpin", "--run", runs[0] as string);
      expect(unpinned.removed).toEqual(["kopi-docka: audit 2026"]);
      const dry2 = await json("snapshots", "expire", "--dry-run");
      expect(dry2.remove.map((p: Point) => p.runId)).toEqual([runs[0]]);
      expect((await points()).map((p) => p.runId)).toEqual([last.runId, runs[0]]);
      await json("snapshots", "expire");
      expect((await points()).map((p) => p.runId)).toEqual([last.runId]);
      expect(await latest()).toBe(((await points())[0] as Point).backupId);
    }, 240_000);
    test.skipIf(!hasTmux)(
      "on a terminal: the points first, then a question whose default is no; yes deletes",
      async () => {
        const [only] = await points();
        const cmd = `env -u CI NO_COLOR=1 ${cliArgv().join(" ")} snapshots delete --run ${only?.runId} --config ${config}`;
        const no = terminal(uniqueName("kdtdel"), { width: 200, height: 50 });
        try {
          await no.start(cmd);
          expect(await no.waitFor("Delete these restore points?", 60_000)).toContain(
            only?.backupId as string,
          );
          await no.keys("Enter");
          const text = await no.waitFor("EXIT=", 60_000);
          expect(text).toContain("nothing was deleted");
          expect(text).toContain("EXIT=130");
        } finally {
          await no.kill();
        }
        expect((await points()).map((p) => p.key)).toEqual([only?.key as string]);
        const yes = terminal(uniqueName("kdtdel"), { width: 200, height: 50 });
        try {
          await yes.start(cmd);
          await yes.waitFor("Delete these restore points?", 60_000);
          await yes.keys("y");
          await yes.keys("Enter");
          const text = await yes.waitFor("EXIT=", 60_000);
          expect(text).toContain("deleted 1 restore point(s)");
          expect(text).toContain("EXIT=0");
        } finally {
          await yes.kill();
        }
        expect(await points()).toEqual([]);
      },
      120_000,
    );
  },
);
