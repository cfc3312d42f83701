import { afterAll, beforeAll, expect, test } from "bun:test";
import { runBackup } from "../../src/core/backup/run.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { coreDeps } from "./backup-helpers.ts";

// A repository whose global policy says "do not save identical snapshots" (kopia's
// --ignore-identical-snapshots, set by someone sharing the repository): kopia then saves nothing for a
// source unchanged since its last snapshot, and an idle app's backup failed every night. kopi-docka's
// identity policy says "save them".
describeReal("a global policy that ignores identical snapshots", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-identical-");
  const name = uniqueName("kdt-identical");
  const config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");

  beforeAll(async () => {
    await startContainer(
      name,
      `${name}-v`,
      [],
      "[ -e /data/d.txt ] || echo data > /data/d.txt; trap 'exit 0' TERM; while true; do sleep 0.2; done",
    );
  }, 60_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", `${name}-v`], { check: false });
    dir.remove();
  }, 60_000);

  test("an idle unit backed up twice: both runs save a point", async () => {
    const deps = coreDeps(config);
    const first = await runBackup(deps, { units: [name] });
    expect(first.units[0]?.status).toBe("ok");
    await deps.kopia.run(["policy", "set", "--global", "--ignore-identical-snapshots=true"]);
    const second = await runBackup(coreDeps(config), { units: [name] });
    expect(second.units[0]?.status).toBe("ok");
    const volume = second.units[0]?.sources.find((s) => s.type === "volume");
    expect(volume?.snapshotId).toBeTruthy();
    expect(volume?.snapshotId).not.toBe(first.units[0]?.sources.find((s) => s.type === "volume")?.snapshotId);
  }, 180_000);
});
