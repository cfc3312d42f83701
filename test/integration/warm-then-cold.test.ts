import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBackup } from "../../src/core/backup/run.ts";
import { snapshotSource } from "../../src/core/backup/snapshot.ts";
import { warmPass } from "../../src/core/backup/warm.ts";
import { createJournal } from "../../src/core/containers/journal.ts";
import { ensureGatePolicy } from "../../src/core/kopia/gate.ts";
import { openRepository } from "../../src/core/repository/open.ts";
import { groupRestorePoints } from "../../src/core/restore/points.ts";
import {
  describeReal,
  run,
  TEST_IMAGE,
  tempDir,
  uniqueName,
  volumeMountpoint,
  writeTestConfig,
} from "../helpers/env.ts";
import { bareRestore, coreDeps, inspectState } from "./backup-helpers.ts";
import { expectStopTimeBytes, RACING_WRITER } from "./racing-writer.ts";
import { expectKeptWarmPass, writeBulk } from "./warm-kept.ts";

// warm-then-cold: a warm pass while the containers run, then the gated cold pass. What must hold: the
// restored data is the data at stop time however the writer raced the warm pass; a file rewritten
// with the same size and mtime after the warm pass read it is never taken from the warm pass, while
// the files nobody wrote during it are (the warm pass is kept, less the files written while it read);
// warm passes are never restore points and never take a retention slot; `live` never stops anything.
const RUNS = Number(process.env.KD_WARM_RUNS ?? 20);

const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"];

describeReal("warm-then-cold and live", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-warm-");
  const writer = uniqueName("kdt-warm-w");
  const quiet = uniqueName("kdt-warm-q");
  const live = uniqueName("kdt-warm-l");
  const bulk = uniqueName("kdt-warm-b");
  const volumes = [writer, quiet, live, bulk].map((n) => `${n}-v`);
  let deps: ReturnType<typeof coreDeps>;
  let configFile = "";
  const mountpoints: string[] = [];
  const infos: string[] = [];

  beforeAll(async () => {
    configFile = writeTestConfig(
      join(dir.path, "kd"),
      `[backup]\nstop_timeout = 10\n\n[retention]\nlatest = 2\nhourly = 0\ndaily = 0\nweekly = 0\nmonthly = 0\nannual = 0\n\n` +
        `[units.${writer}]\nmode = "warm-then-cold"\n\n[units.${quiet}]\nmode = "warm-then-cold"\n\n` +
        `[units.${live}]\nmode = "live"\n\n[units.${bulk}]\nmode = "warm-then-cold"\n`,
    );
    deps = coreDeps(configFile);
    deps.log.info = ((m: unknown) => infos.push(String(m))) as unknown as typeof deps.log.info;
    writeFileSync(join(dir.path, "writer.sh"), RACING_WRITER);
    for (const v of volumes) {
      await run(["docker", "volume", "create", v]);
      mountpoints.push(await volumeMountpoint(v));
    }
    const script = `${join(dir.path, "writer.sh")}:/writer.sh:ro`;
    const start = (name: string, v: string, cmd: string[]) =>
      run(["docker", "run", "-d", "--name", name, "-v", `${v}:/data`, "-v", script, TEST_IMAGE, ...cmd]);
    await start(writer, volumes[0] ?? "", ["sh", "/writer.sh"]);
    await start(quiet, volumes[1] ?? "", IDLE);
    await start(live, volumes[2] ?? "", IDLE);
    writeBulk(mountpoints[3] ?? "");
    await start(bulk, volumes[3] ?? "", ["sh", "/writer.sh"]);
    for (let i = 0; i < 50; i++)
      writeFileSync(join(mountpoints[1] ?? "", `q${i}`), `quiet ${i}\n`.repeat(100));
    writeFileSync(join(mountpoints[2] ?? "", "live.txt"), "read live\n");
  }, 120_000);

  afterAll(async () => {
    for (const n of [writer, quiet, live, bulk]) await run(["docker", "rm", "-f", n], { check: false });
    for (const v of volumes) await run(["docker", "volume", "rm", "-f", v], { check: false });
    dir.remove();
  }, 60_000);

  test(`${RUNS} warm-then-cold backups of a volume rewritten until the stop: each restores to the stop-time bytes`, async () => {
    infos.length = 0;
    const frozen = await expectStopTimeBytes(deps, writer, mountpoints[0] ?? "", dir.path, RUNS);
    console.log(`warm-then-cold: ${RUNS} runs, frozen windows ms: ${frozen.join(" ")}`);
    // Every warm pass was kept, less what the writer rewrote while it read (never dropped as a whole).
    const kept = infos.filter((m) => m.includes("files changed while it read them")).length;
    console.log(`warm-then-cold: ${kept} of ${RUNS} warm passes had files removed, none dropped`);
    expect(infos.filter((m) => m.includes("not used as the base"))).toEqual([]);
    expect(kept).toBeGreaterThan(0);
  }, 1_200_000);

  test("a writer rewriting a few files while most stay untouched: the warm pass is kept, the cold pass re-reads only the few", async () => {
    infos.length = 0;
    const scratch = join(dir.path, "bulk");
    // First backup of the source: only a kept warm pass can spare the cold pass the untouched files.
    const first = await expectKeptWarmPass(deps, bulk, volumes[3] ?? "", scratch, infos);
    // Files changed during the day (before the warm pass, not during it): taken from the warm pass too.
    writeBulk(mountpoints[3] ?? "", { changed: true });
    rmSync(join(mountpoints[3] ?? "", "frozen"), { force: true });
    await Bun.sleep(300); // the writer is at full speed again
    const second = await expectKeptWarmPass(deps, bulk, volumes[3] ?? "", scratch, infos);
    console.log(
      `warm-then-cold with a kept warm pass, cold pass: first ${first}; after a day's changes ${second}`,
    );
  }, 600_000);

  test("a signal while a warm snapshot is checked and fixed leaves no warm snapshot of the source", async () => {
    // Its own deps: the signal aborts that lifecycle for good. The signal comes while kopia rewrites
    // the warm snapshot (`snapshot fix`), the moment two manifests of it may exist.
    const ds: ReturnType<typeof coreDeps> = coreDeps(configFile, {
      push: (argv: string[]) => {
        if (argv.includes("fix")) setTimeout(() => void ds.lifecycle.onSignal("SIGTERM"), 150);
        return 0;
      },
    } as unknown as string[][]);
    rmSync(join(mountpoints[3] ?? "", "frozen"), { force: true });
    await Bun.sleep(300);
    const record = await runBackup(ds, { units: [bulk] });
    expect(record.units[0]?.errors.some((e) => e.phase === "interrupted")).toBe(true);
    const path = `/kopi-docka/${bulk}/volumes/${volumes[3]}`;
    const left = (await deps.kopia.snapshotList()).filter(
      (m) => m.source.path === path && m.tags?.["tag:kopi_docka_warm"],
    );
    expect(left).toEqual([]);
    expect((await inspectState(bulk)).Running).toBe(true); // the warm pass comes before any stop
    await run(["docker", "stop", bulk]); // its writer is done with: quiet for the tests after
  }, 300_000);

  test("with latest = 2, three warm-then-cold runs leave the last two cold points and no warm one", async () => {
    await Bun.sleep(2_500); // the quiet data is older than the racy margin: its warm passes are kept
    infos.length = 0;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(mountpoints[1] ?? "", "run.txt"), `run ${i}\n`);
      await Bun.sleep(2_500);
      const record = await runBackup(deps, { units: [quiet] });
      expect(record.status).toBe("ok");
      ids.push(record.units[0]?.sources.find((s) => s.type === "volume")?.snapshotId ?? "");
    }
    // Each warm pass was kept as the cold pass's base (none was dropped as racy).
    expect(infos.filter((m) => m.includes("warm pass"))).toEqual([]);
    const all = await deps.kopia.snapshotList();
    const mine = all.filter((m) => m.source.path === `/kopi-docka/${quiet}/volumes/${volumes[1]}`);
    expect(mine.map((m) => m.id).sort()).toEqual(ids.slice(1).sort());
    expect(mine.filter((m) => m.incomplete || m.tags?.["tag:kopi_docka_warm"])).toEqual([]);
    const points = groupRestorePoints(all).points.filter((p) => p.unit === quiet);
    expect(points.length).toBe(2);
    expect(points.every((p) => p.complete)).toBe(true);
  }, 600_000);

  test("a same-size rewrite with the same mtime after the warm pass read the file is never taken from it", async () => {
    await openRepository(deps, "use");
    await ensureGatePolicy(deps.kopia, `kopi-docka@${deps.hostname}`);
    const src = join(dir.path, "racy");
    mkdirSync(src, { recursive: true });
    const source = (label: string) =>
      ({
        type: "volume" as const,
        label,
        path: src,
        logicalPath: `/kopi-docka/racy-test/volumes/${label}`,
        tags: { type: "volume" as const, unit: "racy-test", backup_id: "b", run_id: "r", volume: label },
        excludePatterns: [],
        reason: "test",
        // biome-ignore lint/suspicious/noExplicitAny: the snapshot reads only these fields
      }) as any;
    const o = { hostname: deps.hostname, unit: "racy-test", signal: new AbortController().signal };
    const d = { ...deps, journal: createJournal(join(dir.path, "journal")) };
    const cold = (label: string) =>
      snapshotSource(deps.kopia, source(label), { ...o, timestamp: new Date().toISOString(), log: deps.log });
    // The rewrite keeps size and the exact (ns) mtime, as a write inside the same tick would.
    const rewrite = async (mtime?: string) => {
      await run(["cp", "-p", join(src, "f"), join(dir.path, "ref")]);
      writeFileSync(join(src, "f"), "NEW-CONTENT\n");
      await run(["touch", "-r", join(dir.path, "ref"), join(src, "f")]);
      if (mtime) await run(["touch", "-d", mtime, join(src, "f")]);
    };
    const warmOf = async (label: string) =>
      (await deps.kopia.snapshotList()).filter(
        (m) => m.source.path === `/kopi-docka/racy-test/volumes/${label}` && m.tags?.["tag:kopi_docka_warm"],
      );
    const restored = async (id: string, label: string) => {
      const target = join(dir.path, `racy-${label}`);
      await bareRestore(deps, id, target);
      return readFileSync(join(target, "f"), "utf8");
    };

    // A file written just before the warm pass: it is removed from the warm snapshot, which is kept
    // with the old file beside it; the cold pass reads f again and takes g from the warm pass.
    writeFileSync(join(src, "g"), "old file\n");
    utimesSync(join(src, "g"), new Date("2020-01-01T00:00:00Z"), new Date("2020-01-01T00:00:00Z"));
    writeFileSync(join(src, "f"), "old-content\n");
    await warmPass(d, [source("fresh")], o);
    const [kept, ...more] = await warmOf("fresh");
    expect(more).toEqual([]);
    expect(kept?.rootEntry?.summ?.files).toBe(1); // g only
    expect(kept?.incomplete).toBeUndefined();
    expect(kept?.tags?.["tag:kopi_docka_warm"]).toBe("true");
    expect(infos).toContain(
      "racy-test: warm pass of fresh: 1 files changed while it read them; the cold pass re-reads them",
    );
    await rewrite();
    const fresh = await cold("fresh");
    expect(fresh.status).toBe("ok");
    expect(await restored(fresh.snapshotId ?? "", "fresh")).toBe("NEW-CONTENT\n");
    const freshCold = (await deps.kopia.snapshotList()).find((m) => m.id === fresh.snapshotId);
    expect(freshCold?.stats?.cachedFiles).toBe(1); // g, from the warm pass: the first cold of this source

    // Control: with an mtime far older than the margin the warm pass is kept, and kopia does take an
    // unchanged-looking file from it (so the first case passed because of the rule, not by luck).
    writeFileSync(join(src, "f"), "old-content\n");
    await run(["touch", "-d", "2020-01-01 00:00:00", join(src, "f")]);
    await warmPass(d, [source("aged")], o);
    await rewrite();
    const aged = await cold("aged");
    expect(await restored(aged.snapshotId ?? "", "aged")).toBe("old-content\n");

    // A warm snapshot a killed run never checked (saved, then the run died) is removed by the next
    // warm pass of its source before it can become a base; the new one is kept.
    const warmIds = async (label: string) => (await warmOf(label)).map((m) => m.id);
    const goFile = join(dir.path, "go");
    writeFileSync(goFile, "go\n");
    const orphan = await deps.kopia.snapshotCreateResult(src, {
      overrideSource: `kopi-docka@${deps.hostname}:/kopi-docka/racy-test/volumes/orphan`,
      tags: { kopi_docka_warm: "true", unit: "racy-test", type: "volume" },
      gate: goFile,
    });
    expect(orphan.manifest?.incomplete).toBeUndefined();
    expect(await warmIds("orphan")).toEqual([orphan.manifest?.id ?? ""]);
    await warmPass(d, [source("orphan")], o);
    const left = await warmIds("orphan");
    expect(left.length).toBe(1);
    expect(left).not.toContain(orphan.manifest?.id);
  }, 300_000);

  test("live: the container is never stopped and its data is backed up", async () => {
    const before = await inspectState(live);
    const record = await runBackup(deps, { units: [live] });
    expect(record.status).toBe("ok");
    expect(record.units[0]?.stopped).toEqual([]);
    const after = await inspectState(live);
    expect(after).toEqual({ ...before, Running: true });
    expect(after.StartedAt).toBe(before.StartedAt);
    const vol = record.units[0]?.sources.find((s) => s.type === "volume");
    const target = join(dir.path, "restored-live");
    await bareRestore(deps, vol?.snapshotId ?? "", target);
    expect(readFileSync(join(target, "live.txt"), "utf8")).toBe("read live\n");
  }, 300_000);
});
