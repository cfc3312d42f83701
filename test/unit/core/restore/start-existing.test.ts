import { describe, expect, test } from "bun:test";
import { createDocker } from "../../../../src/core/docker/docker.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { startableAfterSettle } from "../../../../src/core/restore/settle-held.ts";
import { startExisting } from "../../../../src/core/restore/start.ts";
import type { ContainerState, StartStep } from "../../../../src/core/restore/types.ts";
import { REDACTED } from "../../../../src/core/snapshot/redact.ts";
import { renderRestorePlan } from "../../../../src/ui/restore-report.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

// `restore --start` of a standalone unit whose container exists: recreated never, started when it
// is stopped (the app crashed; restored, it must run again), unless an interrupted restore holds it.
const points = groupRestorePoints(unitBackup("web", "r1", "2026-01-01T10:00:00Z", ["web_data"]));
const standalone = () => {
  const r = recipe({
    unit: "web",
    type: "standalone",
    workingDir: null,
    containers: [{ name: "web", image: "busybox" }],
    volumes: [{ name: "web_data", driver: "local", options: {}, labels: {}, usedBy: ["web"] }],
    networks: [],
  });
  r.inspects = {
    web: {
      Name: "/web",
      Config: { Image: "busybox", Env: [`DB_PASSWORD=${REDACTED}`] },
      Mounts: [{ Type: "volume", Name: "web_data", Destination: "/data", RW: true }],
    },
  };
  r.networks = [];
  return r;
};
const web = (over: Partial<ContainerState>): ContainerState => ({
  id: "c0ffee",
  name: "web",
  running: false,
  volumes: ["web_data"],
  binds: [],
  ...over,
});
const plan = (containers: ContainerState[]) =>
  planRestore(
    request({ unit: "web", point: "web@r1-web", start: true }),
    points,
    emptyState({
      recipe: standalone(),
      containers,
      volumes: { web_data: { mountpoint: "/v/web_data", labels: {} } },
    }),
  );

describe("plan", () => {
  test("an existing stopped container is started, not refused for the redacted env it need not be run with", () => {
    const p = plan([web({})]);
    expect(p.refusals).toEqual([]);
    expect(p.start).toMatchObject({ kind: "run", containers: [{ name: "web", exists: "stopped" }] });
    expect(renderRestorePlan(p).join("\n")).toContain(
      "  start      web (exists, stopped): docker start, once its data is restored",
    );
  });

  test("one an interrupted restore holds stays stopped, and the plan says why", () => {
    const p = plan([web({ held: "restore r0 of web was replacing its data when it ended" })]);
    expect(p.start).toMatchObject({ containers: [{ name: "web", exists: "held" }] });
    expect(p.warnings).toContain(
      "--start: web exists and stays stopped: restore r0 of web was replacing its data when it ended",
    );
    expect(renderRestorePlan(p).join("\n")).toContain(
      "  keep       web (exists, stopped): held by a restore",
    );
  });

  test("a running one is kept; a missing one is run, refused while its secret is redacted", () => {
    expect(plan([web({ running: true })]).start).toMatchObject({
      containers: [{ name: "web", exists: "running" }],
    });
    const missing = plan([]);
    expect(missing.refusals[0]).toContain("DB_PASSWORD was redacted in the backup");
  });
});

describe("startExisting", () => {
  const step = (exists?: "running" | "stopped" | "held" | "settles"): StartStep => ({
    kind: "run",
    containers: [{ name: "web", argv: ["--name", "web", "busybox"], env: [], ...(exists ? { exists } : {}) }],
  });
  const running = (name: string, out: string) => ({
    argv: ["docker", "inspect", "-f", "{{.State.Running}}", name],
    stdout: `${out}\n`,
  });

  test("docker start of a stopped one; one started meanwhile (its dump feed) is left as it is", async () => {
    const runner = new FakeRunner([running("web", "false"), { argv: ["docker", "start", "web"] }]);
    expect(await startExisting(createDocker(runner), step("stopped"), silentLogger())).toEqual({
      started: ["web"],
      failed: [],
    });
    expect(runner.remaining).toBe(0);
    const again = new FakeRunner([running("web", "true")]);
    expect(await startExisting(createDocker(again), step("stopped"), silentLogger())).toEqual({
      started: [],
      failed: [],
    });
    expect(again.remaining).toBe(0);
  });

  test("a start that fails is named, with docker's reason", async () => {
    const runner = new FakeRunner([
      running("web", "false"),
      { argv: ["docker", "start", "web"], exitCode: 1, stderr: "Error: network gone not found" },
    ]);
    const r = await startExisting(createDocker(runner), step("stopped"), silentLogger());
    expect(r.started).toEqual([]);
    expect(r.failed.map((f) => f.name)).toEqual(["web"]);
    expect(r.failed[0]?.reason).toContain("network gone not found");
  });

  test("held, running or new containers: no docker call at all", async () => {
    const runner = new FakeRunner([]);
    for (const e of ["held", "running", undefined] as const)
      expect(await startExisting(createDocker(runner), step(e), silentLogger())).toEqual({
        started: [],
        failed: [],
      });
    expect(runner.calls).toEqual([]);
  });

  test("one whose hold this run ended (settles) is started; one still held is not, and that is said", async () => {
    const runner = new FakeRunner([running("web", "false"), { argv: ["docker", "start", "web"] }]);
    const ready = startableAfterSettle(step("settles"), ["web"], silentLogger());
    expect(await startExisting(createDocker(runner), ready, silentLogger())).toEqual({
      started: ["web"],
      failed: [],
    });
    expect(runner.remaining).toBe(0);
    const warned: string[] = [];
    const log = silentLogger();
    log.warn = ((m: unknown) => warned.push(String(m))) as unknown as typeof log.warn;
    const still = new FakeRunner([]);
    const held = startableAfterSettle(step("settles"), [], log);
    expect(await startExisting(createDocker(still), held, log)).toEqual({ started: [], failed: [] });
    expect(still.calls).toEqual([]);
    expect(warned).toEqual(["web stays stopped: a restore that did not finish still holds it"]);
  });
});
