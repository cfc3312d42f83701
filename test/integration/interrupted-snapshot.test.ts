import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createBunRunner, type RunResult } from "../../src/core/process/runner.ts";
import { describeReal, run, tempDir, uniqueName, volumeMountpoint, writeTestConfig } from "../helpers/env.ts";
import { backupInterruptedAtRead, fillBigVolume, startOnBigVolume } from "../helpers/interrupt.ts";
import { describeTree } from "../helpers/tree.ts";

// A real `kopi-docka backup` (from source) of a ~320 MB volume, interrupted while kopia snapshots it:
// by SIGTERM to kopi-docka (kopia saves an incomplete "canceled" manifest) and by SIGKILL to kopia
// itself (no manifest). Neither may be offered as a restore point, the run must be on record, the
// container must run again, and the next backup must succeed and restore byte for byte.
const SOURCE_CLI = [process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts")];
const runner = createBunRunner();

interface Manifest {
  id: string;
  incomplete?: string;
  tags?: Record<string, string>;
}
interface Point {
  backupId: string;
  runId: string;
  complete: boolean;
  problems: string[];
  volumes: { id: string; name: string }[];
}

describeReal("kopia interrupted mid-snapshot", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-crash-snap-");
  const name = uniqueName("kdt-crash-snap");
  const volume = `${name}-v`;
  let config = "";
  const env = { NO_COLOR: "1", CI: "true", KOPI_DOCKA_CONFIG: undefined };
  const cli = (args: string[]) =>
    runner.run([...SOURCE_CLI, ...args, "--config", config], { check: false, env, timeoutMs: 300_000 });
  const runsDir = () => join(dir.path, "state", "runs");
  const readRun = (id: string) => JSON.parse(readFileSync(join(runsDir(), `${id}.json`), "utf8"));

  async function manifests(): Promise<Manifest[]> {
    const password = readFileSync(join(dir.path, "repository.password"), "utf8").trim();
    const kopiaConfig = join(dir.path, "state", "kopia", "repository.config");
    const r = await run(["kopia", "snapshot", "list", "--all", "--json", "--config-file", kopiaConfig], {
      env: { KOPIA_PASSWORD: password, KOPIA_CHECK_FOR_UPDATES: "false" },
    });
    return JSON.parse(r.stdout);
  }
  const runIdOf = (m: Manifest) => m.tags?.["tag:run_id"];

  async function points(): Promise<Point[]> {
    const r = await cli(["snapshots", "--json"]);
    expect({ exit: r.exitCode, err: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, err: "" });
    return JSON.parse(r.stdout).points;
  }

  /** The stop was journaled (the directory exists) and the entry cleared by the restart. */
  function expectJournalEmpty(r: RunResult): void {
    const d = join(dir.path, "state", "journal");
    const left = existsSync(d) ? readdirSync(d) : ["(no journal directory: nothing was recorded)"];
    expect({ left, log: left.length > 0 ? r.stderr : "" }).toEqual({ left: [], log: "" });
  }

  async function running(): Promise<boolean> {
    const r = await run(["docker", "inspect", "--format", "{{.State.Running}}", name]);
    return r.stdout.trim() === "true";
  }

  const backupInterrupted = (act: (pid: number) => void): Promise<RunResult> =>
    backupInterruptedAtRead({ unit: name, volume, config, env, act }).result;

  /** The kopia `snapshot create` that run `pid` started (found by the run marker in its env). */
  function kopiaChildOf(pid: number): number | undefined {
    for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
      try {
        const environ = readFileSync(`/proc/${p}/environ`, "utf8").split("\0");
        if (!environ.some((v) => v.startsWith(`KOPI_DOCKA_RUN=${pid}:`))) continue;
        const argv = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
        if (argv.includes("snapshot") && argv.includes("create")) return Number(p);
      } catch {
        // gone
      }
    }
    return undefined;
  }

  /** The interrupted run's id: the one run record that is not from an earlier run. */
  function newRunIds(before: Set<string>): string[] {
    return readdirSync(runsDir())
      .map((f) => f.replace(/\.json$/, ""))
      .filter((id) => !before.has(id));
  }

  /** The next backup succeeds, and a bare kopia restore of its volume snapshot equals the volume. */
  async function nextBackupRestoresExactly(): Promise<void> {
    const next = await cli(["backup", "--unit", name, "--json"]);
    expect({ exit: next.exitCode, err: next.exitCode ? next.stderr : "" }).toEqual({ exit: 0, err: "" });
    const record = JSON.parse(next.stdout);
    const vol = record.units[0].sources.find((s: { type: string }) => s.type === "volume");
    expect(vol.status).toBe("ok");
    const target = join(dir.path, `restored-${record.runId}`);
    const password = readFileSync(join(dir.path, "repository.password"), "utf8").trim();
    await run(
      [
        "kopia",
        "snapshot",
        "restore",
        vol.snapshotId,
        target,
        "--config-file",
        join(dir.path, "state", "kopia", "repository.config"),
      ],
      { env: { KOPIA_PASSWORD: password, KOPIA_CHECK_FOR_UPDATES: "false" }, timeoutMs: 300_000 },
    );
    const mountpoint = await volumeMountpoint(volume);
    const restored = describeTree(target);
    expect(Object.keys(restored).length).toBe(42); // ".", f1…f40, small
    expect(restored).toEqual(describeTree(mountpoint));
    const latest = (await points()).find((p) => p.runId === record.runId);
    expect(latest?.complete).toBe(true);
    expect(latest?.volumes.map((v) => v.id)).toEqual([vol.snapshotId]);
  }

  beforeAll(async () => {
    config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");
    await startOnBigVolume(name, volume, { after: "echo x > /data/small" });
  }, 180_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  test("SIGTERM to kopi-docka mid-snapshot: run recorded as interrupted, the canceled snapshot never offered, next backup exact", async () => {
    const before = new Set(
      existsSync(runsDir()) ? readdirSync(runsDir()).map((f) => f.replace(/\.json$/, "")) : [],
    );
    const r = await backupInterrupted((pid) => process.kill(pid, "SIGTERM"));
    expect({ exit: r.exitCode, err: r.exitCode === 143 ? "" : r.stderr }).toEqual({ exit: 143, err: "" });
    expect(r.stderr).toContain(`stopping ${name}`);
    expect(await running()).toBe(true);
    expectJournalEmpty(r);
    expect(existsSync(join(dir.path, "kopi-docka.lock"))).toBe(false);

    const [runId, ...more] = newRunIds(before);
    expect(more).toEqual([]);
    const record = readRun(runId as string);
    expect(record).toMatchObject({ runId, status: "failed", interrupted: "SIGTERM" });
    expect(record.units.map((u: { name: string }) => u.name)).toEqual([name]);
    const history = await cli(["history", "--json"]);
    expect(
      JSON.parse(history.stdout).map((h: { runId: string; interrupted?: string }) => [
        h.runId,
        h.interrupted,
      ]),
    ).toEqual([[runId, "SIGTERM"]]);
    expect((await cli(["history"])).stdout).toContain(runId as string);

    // kopia saved what it had read as an incomplete manifest of this run ...
    const incomplete = (await manifests()).filter((m) => m.incomplete && runIdOf(m) === runId);
    console.log(
      `interrupted-snapshot: incomplete manifests of run ${runId}: ${JSON.stringify(incomplete.map((m) => m.incomplete))}`,
    );
    expect(incomplete.length).toBeGreaterThan(0);
    // ... and no restore point offers it: the run's point (if listed) is marked incomplete.
    const all = await points();
    const offered = all.flatMap((p) => p.volumes.map((v) => v.id));
    for (const m of incomplete) expect(offered).not.toContain(m.id);
    for (const p of all.filter((x) => x.runId === runId)) {
      expect(p.complete).toBe(false);
      expect(p.problems.join("\n")).toContain("incomplete");
    }

    await nextBackupRestoresExactly();
  }, 600_000);

  test("SIGKILL to kopia mid-snapshot: the unit fails, the container runs again, nothing partial offered, next backup exact", async () => {
    // New content, so kopia has to read and upload it again (the kill lands mid-upload).
    await fillBigVolume(volume, "echo x > /data/small");
    const before = new Set(readdirSync(runsDir()).map((f) => f.replace(/\.json$/, "")));
    let killed: number | undefined;
    const r = await backupInterrupted((pid) => {
      killed = kopiaChildOf(pid);
      if (killed) process.kill(killed, "SIGKILL");
    });
    expect(killed).toBeDefined();
    expect(r.exitCode).toBe(1); // backup_failed: the only unit failed
    expect(await running()).toBe(true);
    expectJournalEmpty(r);
    const [runId] = newRunIds(before);
    const record = readRun(runId as string);
    expect(record.status).toBe("failed");
    expect(record.interrupted).toBeUndefined();
    const vol = record.units[0].sources.find((s: { type: string }) => s.type === "volume");
    expect(vol.status).toBe("failed");
    // No manifest (complete or not) of this run holds the volume, so no point can offer it.
    const ofRun = (await manifests()).filter((m) => runIdOf(m) === runId);
    expect(ofRun.filter((m) => m.tags?.["tag:type"] === "volume" && !m.incomplete)).toEqual([]);
    // Its recipe snapshot exists, yet the point is not complete, so `restore --latest` never picks it.
    const ofThisRun = (await points()).filter((x) => x.runId === runId);
    expect(ofThisRun.length).toBe(1);
    for (const p of ofThisRun) {
      expect(p.volumes).toEqual([]);
      expect(p.complete).toBe(false);
    }

    await nextBackupRestoresExactly();
  }, 600_000);
});
