import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { noteGatePolicy, openAhead } from "../../../../src/core/backup/ahead.ts";
import { executeBackup } from "../../../../src/core/backup/execute.ts";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import { outcomeError } from "../../../../src/core/backup/result.ts";
import type { Unit } from "../../../../src/core/discovery/model.ts";
import { toContainerInfo } from "../../../../src/core/discovery/parse.ts";
import { writeMarker } from "../../../../src/core/repository/saved.ts";
import { renderBackupPlan } from "../../../../src/ui/backup-report.ts";
import { renderDiscovery } from "../../../../src/ui/discovery-report.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import {
  backupDeps,
  config,
  container,
  discovery,
  inspectOf,
  kopiaAnswers,
  planOpts,
  stackUnit,
} from "./fixtures.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

/** A standalone unit of `docker run --rm` container `name` (with a plain helper when asked), one volume. */
function soloUnit(o: { name?: string; helper?: boolean; mode?: Unit["mode"]; stop?: boolean } = {}): Unit {
  const name = o.name ?? "solo";
  const base = stackUnit(name);
  return {
    ...base,
    type: "standalone",
    mode: o.mode ?? "cold",
    containers: [
      container(name, { autoRemove: true, stop: o.stop ?? true }),
      ...(o.helper ? [container(`${name}-helper`)] : []),
    ],
    bindMounts: [],
    networks: [],
  };
}

const now = new Date("2026-01-01T00:00:00Z");
const plan = (cfg = config(), ...units: Unit[]) => planBackup(cfg, discovery(...units), now, planOpts);

describe("containers started with docker run --rm", () => {
  test("HostConfig.AutoRemove reaches the container, `list` and the plan", () => {
    const raw = { ...inspectOf("solo"), HostConfig: { AutoRemove: true } };
    expect(toContainerInfo(raw).autoRemove).toBe(true);
    expect(toContainerInfo(inspectOf("plain")).autoRemove).toBeUndefined();
    expect(plan(config(), soloUnit()).units[0]?.containers[0]?.autoRemove).toBe(true);
    expect(renderDiscovery(discovery(soloUnit()))).toContain("started with --rm: a backup never stops it");
  });

  test("a cold unit that would stop one is refused: nothing stopped, the reason in the plan and the dry run", () => {
    const p = plan(config(), soloUnit({ helper: true }), stackUnit());
    const [solo, shop] = p.units;
    expect(solo?.refused).toContain("solo was started with --rm");
    expect(solo?.refused).toContain("anonymous volumes");
    expect(solo?.refused).toContain("[units.solo] stop = false");
    expect(solo?.stopOrder).toEqual([]);
    expect(solo?.startOrder).toEqual([]);
    expect(solo?.containers.map((c) => [c.name, c.action])).toEqual([
      ["solo", "kept_running"],
      ["solo-helper", "kept_running"],
    ]);
    expect(shop?.refused).toBeUndefined();
    expect(shop?.stopOrder).toHaveLength(3);
    // It reads nothing: only shop's data counts.
    expect(p.estimatedBytes).toBe(shop?.estimatedBytes ?? -1);
    const text = renderBackupPlan(p);
    expect(text).toContain("REFUSED (the run fails it): solo was started with --rm");
    expect(text).toMatch(/solo\s+kept_running/);
  });

  test("a unit that stops nothing backs it up: label stop=false, [units] stop = false or mode live, mode dump", () => {
    const cases = [
      plan(config(), soloUnit({ stop: false })),
      plan(config({ units: { solo: { stop: false } } }), soloUnit()),
      plan(config(), soloUnit({ mode: "dump" })),
    ];
    for (const p of cases) {
      expect(p.units[0]?.refused).toBeUndefined();
      expect(p.units[0]?.containers[0]?.action).toBe("live");
      expect(p.units[0]?.stopOrder).toEqual([]);
    }
  });

  test("the run stops nothing of a refused unit, runs none of its hooks, fails it with the reason; others are backed up, a live --rm one too", async () => {
    const dir = tempDir("kd-rm-");
    dirs.push(dir);
    const hook = join(dir.path, "hook");
    writeFileSync(hook, "#!/bin/sh\nexit 0\n");
    chmodSync(hook, 0o755);
    const runner = new FakeRunner([], [...kopiaAnswers(), { argv: [hook] }]);
    const names = ["solo", "keep", "shop_web_1", "shop_app_1", "shop_db_1"];
    const running = { StartedAt: "2026-01-01T00:00:00Z" };
    const docker = new FakeDocker({
      containers: names.map((n) => FakeDocker.container(`id-${n}`, running, n)),
    });
    const cfg = config({ backup: { hooks: { pre_backup: hook } } });
    const deps = backupDeps({ config: cfg, runner, docker, dir: dir.path });
    const disc = discovery(soloUnit(), soloUnit({ name: "keep", stop: false }), stackUnit());
    const p = planBackup(cfg, disc, now, { ...planOpts, stagingDir: dir.path, scope: "minimal" });
    const record = await executeBackup(deps, p, disc);
    expect(docker.calls.filter((c) => c.includes("id-solo") || c.includes("id-keep"))).toEqual([]);
    expect(docker.calls.filter((c) => /^stop /.test(c))).toHaveLength(3);
    const snapshotted = runner.calls
      .filter((c) => c.argv[0] === "kopia" && c.argv.includes("snapshot"))
      .map((c) => c.argv.join(" "));
    expect(snapshotted.some((a) => a.includes("solo"))).toBe(false);
    expect(snapshotted.some((a) => a.includes("shop_dbdata"))).toBe(true);
    expect(snapshotted.some((a) => a.includes("keep_dbdata"))).toBe(true);
    const hooked = runner.calls.filter((c) => c.argv[0] === hook).map((c) => c.options.env);
    expect(hooked.map((e) => e?.KOPI_DOCKA_UNIT_NAME)).toEqual(["keep", "shop"]);
    expect(record.units.map((u) => [u.name, u.status])).toEqual([
      ["solo", "failed"],
      ["keep", "ok"],
      ["shop", "ok"],
    ]);
    expect(record.units[0]).toMatchObject({ stopped: [], sources: [], restartFailed: [] });
    expect(record.units[0]?.errors[0]).toMatchObject({ phase: "stop", item: "solo" });
    expect(record.units[0]?.errors[0]?.message).toContain("started with --rm");
    expect(record.status).toBe("partial");
    expect(outcomeError(record)?.message).toContain("solo: failed (stop solo: solo was started with --rm");
  });

  test("no snapshot is opened ahead for a refused unit", () => {
    const dir = tempDir("kd-rm-ahead-");
    dirs.push(dir);
    const stateDir = dir.path;
    writeMarker(stateDir, { backend: "filesystem", location: "filesystem /r", connectedAt: "x" });
    // Only the fields the eligibility check reads: going past it would need a runner, and throw.
    const d = {
      kopia: { options: { username: "kopi-docka" } },
      hostname: "h",
      log: { debug() {} },
      lifecycle: { signal: new AbortController().signal },
      // biome-ignore lint/suspicious/noExplicitAny: only the fields the eligibility check reads
    } as any;
    noteGatePolicy(stateDir, d, true);
    const solo = { ...soloUnit(), volumes: [{ ...soloUnit().volumes[0], mountpoint: stateDir }] } as Unit;
    const refused = plan(config(), solo).units[0];
    expect(refused?.sources.some((s) => s.path === stateDir)).toBe(true);
    expect(openAhead(d, { stateDir, journalDir: join(stateDir, "j") }, refused)).toBeUndefined();
  });
});
