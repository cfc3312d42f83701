import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBackup } from "../../src/core/backup/run.ts";
import { isWarmPending, markWarmPending } from "../../src/core/backup/warm-pending.ts";
import {
  describeReal,
  run,
  startContainer,
  tempDir,
  uniqueName,
  volumeMountpoint,
  writeTestConfig,
} from "../helpers/env.ts";
import { bareRestore, coreDeps } from "./backup-helpers.ts";

// A run of `warm-then-cold` killed (SIGKILL, power loss) after kopia saved a warm pass and before it
// was checked leaves a snapshot kopia takes as the base of the source's next snapshot. A file the
// warm pass read while it was being rewritten, and not written since, would be taken from it unread.
// The next warm pass deletes such leftovers; a unit switched to another mode (here `cold`) must too,
// before any snapshot of it opens, including the ones a cold run opens ahead of its policy reads.
describeReal(
  "an unchecked warm pass left by a killed run, then a cold backup",
  ["docker", "kopia", "image"],
  () => {
    const dir = tempDir("kdt-warmleft-");
    const name = uniqueName("kdt-warmleft");
    const volume = `${name}-v`;
    let deps: ReturnType<typeof coreDeps>;
    let mountpoint = "";
    const said: string[] = [];

    beforeAll(async () => {
      deps = coreDeps(writeTestConfig(join(dir.path, "kd"), "[backup]\nstop_timeout = 2\n"));
      const keep = (m: unknown) => said.push(String(m));
      deps.log.info = keep as unknown as typeof deps.log.info;
      deps.log.debug = keep as unknown as typeof deps.log.debug;
      await startContainer(name, volume);
      mountpoint = await volumeMountpoint(volume);
      // The first run sets the gate policy; the second finds it, so later runs open snapshots ahead.
      for (let i = 0; i < 2; i++) expect((await runBackup(deps, { units: [name] })).status).toBe("ok");
    }, 120_000);

    afterAll(async () => {
      await run(["docker", "rm", "-f", name], { check: false });
      await run(["docker", "volume", "rm", "-f", volume], { check: false });
      dir.remove();
    }, 60_000);

    const warmIds = async () =>
      (await deps.kopia.snapshotList())
        .filter(
          (m) => m.source.path === `/kopi-docka/${name}/volumes/${volume}` && m.tags?.["tag:kopi_docka_warm"],
        )
        .map((m) => m.id);

    /** `file` holds `before` while a warm pass reads it, then `after` (same size, same mtime to the ns). */
    async function warmPassThenRewrite(file: string, before: string, after: string): Promise<string> {
      const path = join(mountpoint, file);
      writeFileSync(path, before);
      await run(["touch", "-d", "2020-01-01 00:00:00", path]);
      // What a warm pass of the killed run saved: complete but no point (no backup_id), tagged, not yet checked.
      const go = join(dir.path, "go");
      writeFileSync(go, "go\n");
      const orphan = await deps.kopia.snapshotCreateResult(mountpoint, {
        overrideSource: `kopi-docka@${deps.hostname}:/kopi-docka/${name}/volumes/${volume}`,
        tags: { kopi_docka_warm: "true", unit: name, type: "volume" },
        gate: go,
      });
      expect(orphan.manifest?.incomplete).toBeUndefined();
      await run(["cp", "-p", path, join(dir.path, "ref")]);
      writeFileSync(path, after);
      await run(["touch", "-r", join(dir.path, "ref"), path]);
      return orphan.manifest?.id ?? "";
    }

    async function backupAndRead(file: string): Promise<string> {
      const record = await runBackup(deps, { units: [name] });
      expect(record.status).toBe("ok");
      const id = record.units[0]?.sources.find((s) => s.type === "volume")?.snapshotId ?? "";
      const target = join(dir.path, `restored-${id}`);
      await bareRestore(deps, id, target);
      return readFileSync(join(target, file), "utf8");
    }

    test("control: without the unit's mark, kopia takes the rewritten file from the warm pass (the hazard is real)", async () => {
      await warmPassThenRewrite("g", "old-g-content\n", "NEW-G-CONTENT\n");
      expect(await backupAndRead("g")).toBe("old-g-content\n");
      rmSync(join(mountpoint, "g"));
    }, 180_000);

    test("with the mark the killed run left: the warm pass is deleted first, nothing opens ahead, the bytes are the disk's", async () => {
      markWarmPending(deps.paths.journalDir, name);
      const orphan = await warmPassThenRewrite("f", "old-content\n", "NEW-CONTENT\n");
      said.length = 0;
      expect(await backupAndRead("f")).toBe("NEW-CONTENT\n");
      expect(said).toContain(`${name}: warm passes an interrupted run left unchecked were deleted`);
      expect(said.filter((m) => m.includes("opened ahead"))).toEqual([]);
      expect(await warmIds()).not.toContain(orphan);
      expect(isWarmPending(deps.paths.journalDir, name)).toBe(false);
      // The mark is gone: the next run opens its snapshots ahead again, and lists nothing for it.
      said.length = 0;
      expect((await runBackup(deps, { units: [name] })).status).toBe("ok");
      expect(said.some((m) => m.includes("using the snapshots opened ahead"))).toBe(true);
    }, 180_000);
  },
);
