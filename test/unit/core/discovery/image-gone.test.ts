import { describe, expect, test } from "bun:test";
import { buildDiscovery } from "../../../../src/core/discovery/discover.ts";
import type { DockerFacts } from "../../../../src/core/discovery/docker-facts.ts";
import { inheritedKdLabels } from "../../../../src/core/discovery/labels.ts";
import type { ContainerInfo, Unit } from "../../../../src/core/discovery/model.ts";
import { renderDiscovery } from "../../../../src/ui/discovery-report.ts";
import { config, facts, fakeFs, withContainer } from "./fixtures.ts";

// `docker rmi -f <id>` deletes the image of a stopped container (which may be started again), and
// image inspect leaves that id out. Who set the container's labels can then not be told: unless the
// config trusts the image, every kopi-docka.* label counts as the image's, and compose's host paths
// are not read. Each label so ignored only ever backs up or stops more.

const now = () => new Date("2026-01-02T03:04:05Z");
const fs = fakeFs({ "/tmp/kdfix/proj/docker-compose.yml": "services: {}\n" });
const gone = (host: DockerFacts): DockerFacts => ({ ...host, images: [] });
const TRUST = config({ backup: { trust_image_labels: ["kopi-docka-test/busybox"] } });
const WHY = "ignored (its image kopi-docka-test/busybox:1 could not be inspected, so it may have set it)";
const discover = (host: DockerFacts, cfg = config()) => buildDiscovery(host, cfg, { fs, now }).units;
const unitOf = (units: Unit[], name: string) =>
  units.find((u) => u.containers.some((c) => c.name === name) || u.skipped.some((s) => s.id === name));
const member = (u: Unit | undefined, name: string) => u?.containers.find((c) => c.name === name);

test("inherited labels: every kopi-docka.* label when the image is unknown", () => {
  const labels = { "kopi-docka.exclude": "true", "kopi-docka.unit": "x", maintainer: "me" };
  expect(inheritedKdLabels(labels, undefined)).toEqual(["kopi-docka.exclude", "kopi-docka.unit"]);
  expect(inheritedKdLabels(labels, {})).toEqual([]);
});

describe("the captured v1 host with its image gone", () => {
  test("the unit label and stop=false are ignored, compose's config files and working dir not read", () => {
    const units = discover(gone(facts("v1")));
    expect(units.map((u) => u.name)).toEqual(["kdfixture", "kdfixture-solo"]);
    const solo = member(unitOf(units, "kdfixture-solo"), "kdfixture-solo");
    expect(solo).toMatchObject({ imageUnknown: true, imageLabels: ["kopi-docka.unit"] });
    expect(solo?.ignoredLabels).toEqual([
      `label kopi-docka.unit=tools ${WHY}: trust the image's labels with backup.trust_image_labels = ["kopi-docka-test/busybox"]`,
    ]);
    const project = unitOf(units, "kdfixture_db_1");
    expect(member(project, "kdfixture_db_1")?.stop).toBe(true);
    expect(member(project, "kdfixture_db_1")?.ignoredLabels?.at(-1)).toStartWith(
      `label kopi-docka.stop=false ${WHY}: confirm with [units.kdfixture] stop = false, or trust`,
    );
    expect(project?.composeFiles).toEqual([]);
    expect(project?.workingDir).toBeUndefined();
    expect(member(project, "kdfixture_app_1")?.ignoredLabels?.map((n) => n.split(" ignored")[0])).toEqual([
      "label com.docker.compose.project.working_dir=/tmp/kdfix/proj",
      "label com.docker.compose.project.config_files=docker-compose.yml",
    ]);
    expect(renderDiscovery({ units, discoveredAt: "" })).toContain(
      "image not inspectable, so perhaps from it: kopi-docka.unit=tools",
    );
  });

  test("an image the config trusts: the labels count as with the image there", () => {
    const units = discover(gone(facts("v1")), TRUST);
    expect(units.map((u) => u.name)).toEqual(["kdfixture", "tools"]);
    const project = unitOf(units, "kdfixture_db_1");
    expect(member(project, "kdfixture_db_1")?.stop).toBe(false);
    expect(project?.composeFiles.map((f) => f.found)).toEqual([true]);
    expect(units.flatMap((u) => u.containers.flatMap((c) => c.ignoredLabels ?? []))).toEqual([]);
    // The image there, it carries none of these labels: they are the host's own.
    expect(discover(facts("v1")).map((u) => u.name)).toEqual(["kdfixture", "tools"]);
  });
});

/** A standalone container `x` (mounting volume kdfixture_solo) with these labels, its image gone. */
const x = (labels: Record<string, string>) =>
  gone(
    withContainer(facts("v1"), "kdfixture-solo", {
      name: "x",
      labels: { "kopi-docka.unit": undefined, ...labels },
    }),
  );
type Check = (u: Unit | undefined, c: ContainerInfo | undefined) => void;
const KINDS: { labels: Record<string, string>; ignored: Check; trusted: Check }[] = [
  {
    labels: { "kopi-docka.exclude": "true" },
    ignored: (u, c) => expect([u?.excluded, c?.name]).toEqual([undefined, "x"]),
    trusted: (u, c) => expect([u?.skipped.map((s) => s.id), c]).toEqual([["x"], undefined]),
  },
  {
    labels: { "kopi-docka.exclude-volumes": "kdfixture_solo" },
    ignored: (u) => expect(u?.volumes.map((v) => v.name)).toEqual(["kdfixture_solo"]),
    trusted: (u) => expect(u?.volumes).toEqual([]),
  },
  {
    labels: { "kopi-docka.stop": "false" },
    ignored: (u, c) => expect([u?.mode, c?.stop]).toEqual(["cold", true]),
    trusted: (u, c) => expect([u?.mode, c?.stop]).toEqual(["live", false]),
  },
  {
    labels: { "kopi-docka.mode": "live" },
    ignored: (u, c) => expect([u?.mode, c?.stop, c?.mode]).toEqual(["cold", true, undefined]),
    trusted: (u, c) => expect([u?.mode, c?.stop]).toEqual(["live", false]),
  },
  {
    labels: { "kopi-docka.mode": "dump", "kopi-docka.dump": "postgres" },
    ignored: (u, c) => expect([u?.mode, c?.dump]).toEqual(["cold", undefined]),
    trusted: (u, c) => expect([u?.mode, c?.dump]).toEqual(["dump", "postgres"]),
  },
  {
    labels: { "kopi-docka.stop-timeout": "1" },
    ignored: (_, c) => expect(c?.stopTimeoutLabel).toBeUndefined(),
    trusted: (_, c) => expect(c?.stopTimeoutLabel).toBe("1"),
  },
  {
    labels: { "kopi-docka.unit": "tools" },
    ignored: (u) => expect(u?.name).toBe("x"),
    trusted: (u) => expect(u?.name).toBe("tools"),
  },
];

describe("each label of a container whose image is gone: ignored to the safe side, unless trusted", () => {
  for (const kind of KINDS) {
    test(JSON.stringify(kind.labels), () => {
      const units = discover(x(kind.labels));
      const u = unitOf(units, "x");
      kind.ignored(u, member(u, "x"));
      const notes = member(u, "x")?.ignoredLabels ?? [];
      expect(notes.length).toBeGreaterThan(0);
      for (const note of notes) expect(note).toContain(WHY);
      const t = unitOf(discover(x(kind.labels), TRUST), "x");
      kind.trusted(t, member(t, "x"));
    });
  }
});
