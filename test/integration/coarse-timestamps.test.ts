import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBackup } from "../../src/core/backup/run.ts";
import { type Btrfs, makeLoopFs } from "../helpers/btrfs.ts";
import { describeReal, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { bareRestore, coreDeps } from "./backup-helpers.ts";

// ext4 with 128-byte inodes keeps whole-second timestamps. The app writes 8 bytes as it stops and 8
// other bytes, same size, as it starts. Started within the same second, that write would keep the
// mtime of the one before the stop, and the next snapshot would take the stopped-time bytes from the
// last one unread. The start waits for the next tick: every point holds what was on disk at its stop.
const SCRIPT = [
  "if [ -e /data/started ]; then printf BBBBBBBB > /data/f; fi; touch /data/started",
  "trap 'if [ ! -e /data/stopped ]; then printf AAAAAAAA > /data/f; touch /data/stopped; fi; exit 0' TERM",
  "while true; do sleep 0.05; done",
].join("; ");

describeReal("data on a filesystem with whole-second timestamps", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-coarse-");
  const name = uniqueName("kdt-coarse");
  const config = writeTestConfig(join(dir.path, "cfg"), "[backup]\nstop_timeout = 2\n");
  let fs: Btrfs | undefined;
  let data = "";

  beforeAll(async () => {
    fs = await makeLoopFs(dir.path, "ext4", 64 * 1024 ** 2, ["mkfs.ext4", "-q", "-F", "-I", "128"]);
    data = join(fs.mnt, "data");
    mkdirSync(data);
    writeFileSync(join(data, "f"), "00000000");
    await run(["docker", "run", "-d", "--name", name, "-v", `${data}:/data`, TEST_IMAGE, "sh", "-c", SCRIPT]);
  }, 120_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await fs?.remove();
    dir.remove();
  }, 60_000);

  test("every point holds the bytes on disk at its stop, though the app rewrites them right after the start", async () => {
    expect((await run(["stat", "-c", "%z", join(data, "f")])).stdout).toMatch(/\.000000000 /);
    const deps = coreDeps(config);
    const pointBytes = async (round: number) => {
      const record = await runBackup(deps, { units: [name] });
      expect(record.units[0]?.status).toBe("ok");
      const bind = record.units[0]?.sources.find((s) => s.type === "bind");
      const target = join(dir.path, `restored-${round}-${record.runId}`);
      await bareRestore(deps, bind?.snapshotId ?? "", target);
      return readFileSync(join(target, "f"), "utf8");
    };
    for (let round = 0; round < 3; round++) {
      // This stop writes AAAAAAAA; the start right after it writes BBBBBBBB.
      await run(["docker", "exec", name, "rm", "-f", "/data/stopped"]);
      expect(await pointBytes(2 * round)).toBe("AAAAAAAA");
      // This stop writes nothing: BBBBBBBB is on disk. Before: often AAAAAAAA, taken from the last point.
      expect(await pointBytes(2 * round + 1)).toBe("BBBBBBBB");
    }
  }, 300_000);
});
