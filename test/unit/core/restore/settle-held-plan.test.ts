import { describe, expect, test } from "bun:test";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import type { ContainerState, RestoreRequest } from "../../../../src/core/restore/types.ts";
import { renderRestorePlan } from "../../../../src/ui/restore-report.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

// A container an interrupted restore of its unit holds: a whole restore of that unit in place makes
// its data whole and ends the hold (`settleHeld`). The plan told the user to "restore it again, then
// start it" even when this run was that restore, and `--start` left it stopped all the same.
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
      Config: { Image: "busybox" },
      Mounts: [{ Type: "volume", Name: "web_data", Destination: "/data", RW: true }],
    },
  };
  r.networks = [];
  return r;
};
const HOLD = "restore r0 of web was replacing its data when it ended, so it may hold half-restored data";
const web = (over: Partial<ContainerState> = {}): ContainerState => ({
  id: "c0ffee",
  name: "web",
  running: false,
  volumes: ["web_data"],
  binds: [],
  held: HOLD,
  heldBy: ["web"],
  ...over,
});
const plan = (over: Partial<RestoreRequest>, containers = [web()]) =>
  planRestore(
    request({ unit: "web", point: "web@r1-web", ...over }),
    points,
    emptyState({
      recipe: standalone(),
      containers,
      volumes: { web_data: { mountpoint: "/v/web_data", labels: {} } },
    }),
  );

describe("a container an interrupted restore of the unit holds", () => {
  test("--start, whole and in place: started once this restore made its data whole, and the plan says so", () => {
    const p = plan({ start: true });
    expect(p.start).toMatchObject({ kind: "run", containers: [{ name: "web", exists: "settles" }] });
    expect(p.warnings.join("\n")).not.toContain("then start it");
    expect(p.warnings).toContain(
      "--start: web is held by a restore that did not finish; this one replaces its data whole, which ends the hold: it is started once it has",
    );
    expect(renderRestorePlan(p).join("\n")).toContain(
      "  start      web (exists, held): docker start, once this restore has made its data whole",
    );
  });

  test("without --start: the plan says the hold ends and it stays stopped", () => {
    const p = plan({});
    expect(p.warnings).toContain(
      "web is held by a restore that did not finish; this one replaces its data whole, which ends the hold (its restart policy put back), and leaves it stopped: start it when ready (docker start web), or restore with --start",
    );
  });

  test("a restore of some of its data, or one holding it for another unit: it stays held, as before", () => {
    const part = plan({ start: true, what: "volumes", volumes: ["web_data"] });
    expect(part.start).toMatchObject({ containers: [{ name: "web", exists: "held" }] });
    const other = plan({ start: true }, [web({ heldBy: ["shop"] })]);
    expect(other.start).toMatchObject({ containers: [{ name: "web", exists: "held" }] });
    expect(other.warnings.join("\n")).not.toContain("ends the hold");
  });
});
