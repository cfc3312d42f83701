import { afterEach, describe, expect, test } from "bun:test";
import { executeBackup } from "../../../../src/core/backup/execute.ts";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import { groupUnits } from "../../../../src/core/discovery/group.ts";
import type { ContainerInfo, Unit } from "../../../../src/core/discovery/model.ts";
import { toContainerInfo } from "../../../../src/core/discovery/parse.ts";
import { renderBackupPlan } from "../../../../src/ui/backup-report.ts";
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

const now = new Date("2026-01-01T00:00:00Z");
/** The shop stack with its web container given these fields. */
function shopWith(web: Partial<ContainerInfo>): Unit {
  const unit = stackUnit();
  unit.containers[0] = { ...(unit.containers[0] as ContainerInfo), ...web };
  return unit;
}
const webPlan = (unit: Unit, cfg = config()) =>
  planBackup(cfg, discovery(unit), now, planOpts).units[0]?.containers.find((c) => c.name === "shop_web_1");

describe("docker stop timeouts", () => {
  test("the label is read from the inspect; [units.X] stop_timeout overrides it", () => {
    const raw = inspectOf("web");
    raw.Config.Labels = { "kopi-docka.stop-timeout": "45" };
    expect(toContainerInfo(raw).stopTimeoutLabel).toBe("45");
    const unit = shopWith({ stopTimeoutLabel: "45" });
    expect(webPlan(unit)).toMatchObject({ stopTimeout: 45, stopTimeoutFrom: "label" });
    const cfg = config({ units: { shop: { stop_timeout: 12 } } });
    expect(webPlan(unit, cfg)).toMatchObject({ stopTimeout: 12, stopTimeoutFrom: "unit" });
  });

  test("a label that is not a whole number of seconds in 1…3600 is ignored with a warning naming container and label", () => {
    for (const bad of ["3601", "2147454", "99999999999999999999", "0", "7s", " 7", "-5", "1e3", "0x10", ""]) {
      const p = webPlan(shopWith({ stopTimeoutLabel: bad }), config({ backup: { stop_timeout: 20 } }));
      expect({ bad, t: p?.stopTimeout, from: p?.stopTimeoutFrom }).toEqual({ bad, t: 20, from: "global" });
      expect(p?.stopTimeoutWarning).toContain(
        `shop_web_1: label kopi-docka.stop-timeout=${JSON.stringify(bad)}`,
      );
      expect(p?.stopTimeoutWarning).toContain("stop timeout 20s (global)");
    }
    expect(webPlan(shopWith({ stopTimeoutLabel: "3600" }))?.stopTimeout).toBe(3600);
    expect(webPlan(shopWith({ stopTimeoutLabel: "3600" }))?.stopTimeoutWarning).toBeUndefined();
    // The container's own timeout is the next source; a long value is shortened in the warning.
    const p = webPlan(shopWith({ stopTimeoutLabel: "9".repeat(500), stopTimeout: 40 }));
    expect(p).toMatchObject({ stopTimeout: 40, stopTimeoutFrom: "container" });
    expect(p?.stopTimeoutWarning?.length).toBeLessThan(200);
  });

  test("the container's own StopTimeout is capped at 3600 s, with a warning", () => {
    const p = webPlan(shopWith({ stopTimeout: 2_147_454 }));
    expect(p).toMatchObject({ stopTimeout: 3600, stopTimeoutFrom: "container" });
    expect(p?.stopTimeoutWarning).toBe("shop_web_1: its own StopTimeout 2147454s capped at 3600s");
  });

  test("a stop-timeout label only inherited from an untrusted image is ignored; a trusted image's counts", () => {
    const web = () =>
      container("web", {
        image: "acme/web:2",
        labels: { "kopi-docka.stop-timeout": "900" },
        stopTimeoutLabel: "900",
        imageLabels: ["kopi-docka.stop-timeout"],
      });
    const planned = (cfg: ReturnType<typeof config>) => {
      const [draft] = groupUnits([web()], cfg);
      const unit: Unit = { ...stackUnit("web"), containers: draft?.containers ?? [] };
      return { draft, c: planBackup(cfg, discovery(unit), now, planOpts).units[0]?.containers[0] };
    };
    const untrusted = planned(config());
    expect(untrusted.c).toMatchObject({ stopTimeout: 30, stopTimeoutFrom: "global" });
    expect(untrusted.draft?.containers[0]?.ignoredLabels?.[0]).toContain(
      "image label kopi-docka.stop-timeout=900 ignored",
    );
    expect(untrusted.draft?.containers[0]?.ignoredLabels?.[0]).toContain("[units.web] stop_timeout");
    const trusted = planned(config({ backup: { trust_image_labels: ["acme/web"] } }));
    expect(trusted.c).toMatchObject({ stopTimeout: 900, stopTimeoutFrom: "label" });
  });

  test("the warning is in the dry run and the run record, and docker stop gets the bounded timeout", async () => {
    const dir = tempDir("kd-stop-t-");
    dirs.push(dir);
    const runner = new FakeRunner([], [...kopiaAnswers()]);
    const names = ["shop_web_1", "shop_app_1", "shop_db_1"];
    const running = { StartedAt: "2026-01-01T00:00:00Z" };
    const docker = new FakeDocker({
      containers: names.map((n) => FakeDocker.container(`id-${n}`, running, n)),
    });
    const deps = backupDeps({ config: config(), runner, docker, dir: dir.path });
    const unit = shopWith({ stopTimeoutLabel: "2147454" });
    (unit.containers[1] as ContainerInfo).stopTimeout = 86_400;
    const p = planBackup(deps.config, discovery(unit), now, {
      ...planOpts,
      stagingDir: dir.path,
      scope: "minimal",
    });
    const text = renderBackupPlan(p);
    expect(text).toContain('warning: shop_web_1: label kopi-docka.stop-timeout="2147454" ignored');
    expect(text).toContain("warning: shop_app_1: its own StopTimeout 86400s capped at 3600s");
    const record = await executeBackup(deps, p, discovery(unit));
    expect(docker.calls.filter((c) => c.startsWith("stop "))).toEqual([
      "stop id-shop_web_1 -t30",
      "stop id-shop_app_1 -t3600",
      "stop id-shop_db_1 -t30",
    ]);
    expect(record.units[0]?.status).toBe("ok");
    expect(record.units[0]?.warnings).toEqual([
      expect.stringContaining("shop_app_1: its own StopTimeout 86400s capped at 3600s"),
      expect.stringContaining('shop_web_1: label kopi-docka.stop-timeout="2147454" ignored'),
    ]);
  });
});
