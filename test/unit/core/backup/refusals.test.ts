import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { heldContainers } from "../../../../src/core/backup/held.ts";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import type { PlanOptions } from "../../../../src/core/backup/plan-model.ts";
import { refusedResult } from "../../../../src/core/backup/refusals.ts";
import { createJournal, entryFileName } from "../../../../src/core/containers/journal.ts";
import type { Unit } from "../../../../src/core/discovery/model.ts";
import { renderBackupPlan } from "../../../../src/ui/backup-report.ts";
import { renderDiscovery } from "../../../../src/ui/discovery-report.ts";
import { tempDir } from "../../../helpers/env.ts";
import { config, container, discovery, planOpts, service, stackUnit } from "./fixtures.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const now = new Date("2026-01-01T00:00:00Z");
const plan = (units: Unit[], o: Partial<PlanOptions> = {}, cfg = config()) =>
  planBackup(cfg, discovery(...units), now, { ...planOpts, ...o });

const HOLD =
  "restore R1 of shop was replacing its data when it ended, so it may hold half-restored data: restore it again; then start it (docker start)";

/** `shop` after a failed restore: every container stopped, as abort.ts leaves them. */
function heldShop(running: string[] = []): Unit {
  const base = stackUnit();
  return {
    ...base,
    containers: base.containers.map((c) =>
      running.includes(c.name) ? c : { ...c, running: false, state: "exited" },
    ),
  };
}

describe("a unit with a container a restore left held", () => {
  const held = [{ id: "id-shop_db_1", name: "shop_db_1", hold: HOLD, unit: "shop" }];

  test("is refused in the plan: nothing stopped or read, the hold and what to do in the reason", () => {
    const p = plan([heldShop(["shop_web_1"]), stackUnit("blog")], { held });
    const [shop, blog] = p.units;
    expect(shop?.refused).toContain("shop_db_1 is held stopped by a restore that did not finish");
    expect(shop?.refused).toContain(HOLD);
    expect(shop?.refused).toContain("its restore points are not expired");
    expect(shop?.refusedBy).toEqual({
      containers: ["shop_db_1"],
      next: expect.stringContaining("docker start shop_db_1"),
    });
    expect(shop?.stopOrder).toEqual([]);
    expect(shop?.containers.map((c) => [c.name, c.action])).toEqual([
      ["shop_db_1", "stays_stopped"],
      ["shop_app_1", "stays_stopped"],
      ["shop_web_1", "kept_running"],
    ]);
    expect(shop?.containers[0]?.reason).toContain("held: a restore that did not finish");
    expect(shop?.containers[2]?.reason).toBe(
      "not stopped: the unit is refused (shop_db_1 held by a restore)",
    );
    expect(blog?.refused).toBeUndefined();
    expect(p.estimatedBytes).toBe(blog?.estimatedBytes ?? -1);
    expect(renderBackupPlan(p)).toContain("REFUSED (the run fails it): shop_db_1 is held stopped");
  });

  test("its record: failed at the stop, naming the container, the next step for the alert", () => {
    const shop = plan([heldShop()], { held }).units[0];
    if (!shop) throw new Error("no plan");
    const r = refusedResult(shop, now);
    expect(r).toMatchObject({ status: "failed", sources: [], stopped: [], restartFailed: [] });
    expect(r.errors).toEqual([
      {
        phase: "stop",
        item: "shop_db_1",
        message: shop.refused ?? "",
        next: expect.stringContaining("restore unit shop again"),
      },
    ]);
  });

  test("a hold on a container that runs again (started since: the heal clears it), or on another unit's, refuses nothing", () => {
    expect(plan([heldShop(["shop_db_1"])], { held }).units[0]?.refused).toBeUndefined();
    const other = [{ id: "id-blog_db_1", name: "blog_db_1", hold: HOLD, unit: "blog" }];
    expect(plan([heldShop()], { held: other }).units[0]?.refused).toBeUndefined();
    // A journal may keep a short id.
    const short = [{ id: "id-shop_d", name: "shop_db_1", hold: HOLD, unit: "shop" }];
    expect(plan([heldShop()], { held: short }).units[0]?.refused).toBeDefined();
  });

  test("heldContainers reads the journal's hold entries; an unreadable journal is a warning, not a throw", () => {
    const dir = tempDir("kd-held-");
    dirs.push(dir);
    const journal = createJournal(join(dir.path, "j"));
    const entry = {
      runId: "R1",
      pid: 1,
      unit: "shop",
      stoppedAt: "2026-01-01T00:00:00Z",
      startedAt: "2026-01-01T00:00:00Z",
    };
    journal.record({ ...entry, containerId: "id-shop_db_1", containerName: "/shop_db_1", hold: HOLD });
    journal.record({ ...entry, containerId: "id-shop_web_1", containerName: "/shop_web_1" });
    expect(heldContainers(journal.dir, () => {})).toEqual([
      { id: "id-shop_db_1", name: "shop_db_1", hold: HOLD, unit: "shop" },
    ]);
    expect(heldContainers(join(dir.path, "none"), () => {})).toEqual([]);
    // A journal dir that is a file: readdir fails with ENOTDIR.
    const file = join(journal.dir, entryFileName("R1", "id-shop_db_1"));
    const warned: string[] = [];
    expect(heldContainers(file, (m) => warned.push(m))).toEqual([]);
    expect(warned).toEqual([expect.stringContaining("containers a restore left held are not known")]);
  });
});

describe("Docker Swarm task containers", () => {
  const task = (name: string, o: { stop?: boolean } = {}): Unit => ({
    ...stackUnit(name),
    type: "standalone",
    containers: [
      container(name, { labels: { "com.docker.swarm.task.id": "t1" }, stop: o.stop ?? true }),
      container(`${name}-helper`, { compose: service(name, "helper") }),
    ],
  });

  test("a unit that would stop one is refused: the swarm replaces a stopped task", () => {
    const p = plan([task("svc"), stackUnit()]);
    const [svc, shop] = p.units;
    expect(svc?.refused).toContain("svc is a Docker Swarm task (label com.docker.swarm.task.id)");
    expect(svc?.refused).toContain("[units.svc] stop = false");
    expect(svc?.containers.map((c) => [c.name, c.action, c.swarmTask])).toEqual([
      ["svc", "kept_running", true],
      ["svc-helper", "kept_running", undefined],
    ]);
    expect(svc?.stopOrder).toEqual([]);
    expect(shop?.refused).toBeUndefined();
    expect(renderDiscovery(discovery(task("svc")))).toContain("a Docker Swarm task: a backup never stops it");
  });

  test("one that stops nothing backs it up live", () => {
    expect(plan([task("svc", { stop: false })]).units[0]?.refused).toBe(undefined);
    expect(plan([task("svc")], {}, config({ units: { svc: { stop: false } } })).units[0]?.refused).toBe(
      undefined,
    );
  });
});
