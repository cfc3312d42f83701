import { describe, expect, test } from "bun:test";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import { buildDiscovery } from "../../../../src/core/discovery/discover.ts";
import type { DockerFacts } from "../../../../src/core/discovery/docker-facts.ts";
import { planOpts } from "../backup/fixtures.ts";
import { config, facts, fakeFs, volumeMount, withContainer } from "./fixtures.ts";

// The v1 host runs compose project "kdfixture". README's `kopi-docka.unit` row invites grouping a
// standalone helper with the containers it shares data with; a helper that names the project must not
// take the project's name (and its backup) away, whichever of them sorts first.
const now = () => new Date("2026-01-02T03:04:05Z");
const fs = fakeFs({ "/tmp/kdfix/proj/docker-compose.yml": "services: {}\n" });
const helper = (name: string) =>
  withContainer(facts("v1"), "kdfixture-solo", {
    name,
    labels: { "kopi-docka.unit": "kdfixture" },
    mounts: [volumeMount("kdfixture_dbdata")],
  });
const units = (host: DockerFacts, cfg = config()) => buildDiscovery(host, cfg, { fs, now }).units;

describe("a standalone container claiming a compose project's name", () => {
  for (const name of ["a-helper", "z-helper"]) {
    test(`${name}: the project keeps its unit and backup; the helper is left out, loudly`, () => {
      const found = units(helper(name));
      expect(found.map((u) => [u.name, u.type, u.excluded])).toEqual([
        ["kdfixture", "compose", undefined],
        ["tools", "standalone", undefined],
      ]);
      const project = found[0];
      expect(project?.containers.map((c) => c.name)).toEqual(["kdfixture_app_1", "kdfixture_db_1"]);
      expect(project?.skipped).toContainEqual({
        kind: "container",
        id: name,
        reason:
          "standalone container labelled kopi-docka.unit=kdfixture, a compose project's name: NOT backed up " +
          "(a unit is one compose project or standalone containers, never both): add it to the project's " +
          "compose file, or recreate it with label kopi-docka.unit=<a name of its own>",
        notProtected: true,
      });
      const plan = planBackup(config(), { units: found, discoveredAt: "" }, now(), planOpts);
      expect(plan.units.map((u) => u.name)).toEqual(["kdfixture", "tools"]);
      expect(plan.skippedUnits).toEqual([]);
      // It keeps running through the project's backup and writes the project's volume.
      const db = plan.units[0]?.sources.find((s) => s.label === "kdfixture_dbdata");
      expect(db?.writtenByOthers).toEqual([
        `${name} (left out of unit kdfixture: standalone container labelled kopi-docka.unit=kdfixture, a compose project's name)`,
      ]);
    });
  }

  test("a standalone container merely named like the project is left out the same way", () => {
    const host = withContainer(facts("v1"), "kdfixture-solo", {
      name: "kdfixture",
      labels: { "kopi-docka.unit": undefined },
    });
    const [project] = units(host);
    expect(project?.type).toBe("compose");
    expect(project?.excluded).toBeUndefined();
    expect(project?.skipped.find((s) => s.id === "kdfixture")?.reason).toStartWith(
      "standalone container named kdfixture, a compose project's name: NOT backed up",
    );
  });
});

describe("kopi-docka.unit inherited from the image", () => {
  const host = () => {
    const h = helper("a-helper");
    h.images = h.images.map((img) => ({
      ...img,
      Config: { ...img.Config, Labels: { "kopi-docka.unit": "kdfixture" } },
    }));
    return h;
  };

  test("an untrusted image's unit label is ignored: the container is its own unit, and list says why", () => {
    const found = units(host());
    const own = found.find((u) => u.name === "a-helper");
    expect(own?.type).toBe("standalone");
    expect(own?.containers[0]?.ignoredLabels).toEqual([
      'image label kopi-docka.unit=kdfixture ignored (the image sets it): trust the image\'s labels with backup.trust_image_labels = ["kopi-docka-test/busybox"]',
    ]);
    expect(found.find((u) => u.name === "kdfixture")?.skipped.some((s) => s.id === "a-helper")).toBe(false);
  });

  test("a trusted image's unit label counts", () => {
    const cfg = config({ backup: { trust_image_labels: ["kopi-docka-test/busybox"] } });
    const found = units(host(), cfg);
    expect(found.some((u) => u.name === "a-helper")).toBe(false);
    expect(found.find((u) => u.name === "kdfixture")?.skipped.some((s) => s.id === "a-helper")).toBe(true);
  });
});
