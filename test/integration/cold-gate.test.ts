import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openGated } from "../../src/core/backup/gated.ts";
import { ensureGatePolicy } from "../../src/core/kopia/gate.ts";
import { openRepository } from "../../src/core/repository/open.ts";
import {
  describeReal,
  run,
  startContainer,
  tempDir,
  uniqueName,
  volumeMountpoint,
  writeTestConfig,
} from "../helpers/env.ts";
import { coreDeps } from "./backup-helpers.ts";
import {
  expectNothingReadAfterStart,
  expectStopTimeBytes,
  RACING_WRITER,
  RESUMING_WRITER,
} from "./racing-writer.ts";

// Cold snapshots start before the stop and wait at a gate. What must hold: the snapshot still equals
// the data at stop time while a writer rewrites files as fast as it can until SIGTERM (same-size
// rewrites, renames, deletes), run after run; and a gate never opened saves nothing.
const RUNS = Number(process.env.KD_GATE_RUNS ?? 20);

describeReal("cold gate: snapshots opened before the stop", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-gate-");
  const name = uniqueName("kdt-gate");
  const volume = `${name}-v`;
  const resuming = `${name}-r`;
  let deps: ReturnType<typeof coreDeps>;
  let mountpoint = "";

  beforeAll(async () => {
    const config = writeTestConfig(join(dir.path, "kd"), "[backup]\nstop_timeout = 10\n");
    deps = coreDeps(config);
    writeFileSync(join(dir.path, "writer.sh"), RACING_WRITER);
    await run(["docker", "volume", "create", volume]);
    mountpoint = await volumeMountpoint(volume);
    await startContainer(
      name,
      volume,
      ["-v", `${join(dir.path, "writer.sh")}:/writer.sh:ro`],
      "exec sh /writer.sh",
    );
    writeFileSync(join(dir.path, "resuming.sh"), RESUMING_WRITER);
    await run(["docker", "volume", "create", resuming]);
    await startContainer(
      resuming,
      resuming,
      ["-v", `${join(dir.path, "resuming.sh")}:/writer.sh:ro`],
      "exec sh /writer.sh",
    );
  }, 120_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name, resuming], { check: false });
    await run(["docker", "volume", "rm", "-f", volume, resuming], { check: false });
    dir.remove();
  }, 60_000);

  test(`${RUNS} backups of a volume rewritten until the stop: each restores to the stop-time bytes`, async () => {
    const frozenWindows = await expectStopTimeBytes(deps, name, mountpoint, dir.path, RUNS);
    console.log(`cold-gate: ${RUNS} runs, frozen windows ms: ${frozenWindows.join(" ")}`);
  }, 900_000);

  // The containers start once kopia has read every file, while it still saves (kopia/gate.ts). A read
  // still going on when the writer is back (docker start takes ~0.3 s here) would mix in its writes.
  test(`${RUNS} backups while the writer runs again right after the start: each holds the stop-time bytes`, async () => {
    await expectNothingReadAfterStart(deps, resuming, dir.path, RUNS);
  }, 900_000);

  test("a gate closed unopened saves no snapshot; an opened one does, under the source's identity", async () => {
    await openRepository(deps, "use");
    await ensureGatePolicy(deps.kopia, `kopi-docka@${deps.hostname}`);
    const src = join(dir.path, "gate-src");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "f"), "gated\n");
    const source = (label: string) => ({
      type: "volume" as const,
      label,
      path: src,
      logicalPath: `/kopi-docka/gate-test/volumes/${label}`,
      tags: { type: "volume" as const, unit: "gate-test", backup_id: "b", run_id: "r", volume: label },
      excludePatterns: [],
      reason: "test",
    });
    const o = {
      hostname: deps.hostname,
      timestamp: new Date().toISOString(),
      log: deps.log,
      unit: "gate-test",
    };
    // biome-ignore lint/suspicious/noExplicitAny: a test source needs only the fields the snapshot reads
    const sources = [source("closed"), source("opened")] as any;
    const { gated, dispose } = await openGated(deps, sources, o);
    expect(gated.map((g) => g.parked)).toEqual([true, true]);
    const closed = await gated[0]?.abandon("stop failed");
    const opened = await gated[1]?.release();
    dispose();
    expect(closed).toMatchObject({ status: "failed", reason: "stop failed" });
    expect(opened?.status).toBe("ok");
    const all = await deps.kopia.snapshotList();
    const paths = all
      .filter((m) => m.source.path.startsWith("/kopi-docka/gate-test/"))
      .map((m) => m.source.path);
    expect(paths).toEqual(["/kopi-docka/gate-test/volumes/opened"]);
  }, 120_000);
});
