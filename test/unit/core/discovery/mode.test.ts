import { describe, expect, test } from "bun:test";
import { groupUnits } from "../../../../src/core/discovery/group.ts";
import { config, container } from "../backup/fixtures.ts";

// What parse.ts makes of a `kopi-docka.mode` label: the mode, and "live" also means "not stopped".
const labelled = (mode: "warm-then-cold" | "live" | "dump" | "fs-snapshot", fromImage = false) =>
  container("app", {
    image: "acme/app:2",
    labels: { "kopi-docka.mode": mode },
    mode,
    stop: mode !== "live",
    ...(fromImage ? { imageLabels: ["kopi-docka.mode"] } : {}),
  });

describe("backup mode", () => {
  test("default cold; the label sets the unit's mode; live stops nothing", () => {
    expect(groupUnits([container("app")], config())[0]?.mode).toBe("cold");
    expect(groupUnits([labelled("warm-then-cold")], config())[0]?.mode).toBe("warm-then-cold");
    const [live] = groupUnits([labelled("live")], config());
    expect(live?.mode).toBe("live");
    expect(live?.containers.map((c) => c.stop)).toEqual([false]);
  });

  test("the config's mode wins over labels; mode = live stops nothing", () => {
    const cfg = config({ units: { app: { mode: "cold" } } });
    expect(groupUnits([labelled("warm-then-cold")], cfg)[0]?.mode).toBe("cold");
    const [live] = groupUnits([container("app")], config({ units: { app: { mode: "live" } } }));
    expect(live?.mode).toBe("live");
    expect(live?.containers.map((c) => c.stop)).toEqual([false]);
  });

  test("an image's mode label counts only when the config confirms it", () => {
    const [u] = groupUnits([labelled("live", true)], config());
    expect(u?.mode).toBe("cold");
    expect(u?.containers.map((c) => c.stop)).toEqual([true]);
    expect(u?.containers[0]?.ignoredLabels?.[0]).toContain('[units.app] mode = "live"');
    const [ok] = groupUnits([labelled("live", true)], config({ units: { app: { mode: "live" } } }));
    expect(ok?.mode).toBe("live");
    expect(ok?.containers.map((c) => c.stop)).toEqual([false]);
  });

  test("kopi-docka.stop=false on every container is the live mode (alias)", () => {
    expect(groupUnits([container("app", { stop: false })], config())[0]?.mode).toBe("live");
  });

  test("fs-snapshot, by label or by config", () => {
    expect(groupUnits([labelled("fs-snapshot")], config())[0]?.mode).toBe("fs-snapshot");
    const cfg = config({ units: { app: { mode: "fs-snapshot" } } });
    expect(groupUnits([container("app")], cfg)[0]?.mode).toBe("fs-snapshot");
    expect(groupUnits([labelled("fs-snapshot", true)], config())[0]?.mode).toBe("cold");
  });

  test("a dump label on one container makes the unit dump; from an image it needs the config's word", () => {
    const web = container("web", { labels: { "kopi-docka.unit": "app" } });
    expect(groupUnits([web, labelled("dump")], config())[0]?.mode).toBe("dump");
    const [u] = groupUnits([labelled("dump", true)], config());
    expect(u?.mode).toBe("cold");
    expect(u?.containers[0]?.ignoredLabels?.[0]).toContain('[units.app] mode = "dump"');
    expect(groupUnits([labelled("dump", true)], config({ units: { app: { mode: "dump" } } }))[0]?.mode).toBe(
      "dump",
    );
  });
});
