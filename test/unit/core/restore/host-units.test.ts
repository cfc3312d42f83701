import { describe, expect, test } from "bun:test";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import { createDocker } from "../../../../src/core/docker/docker.ts";
import { unitOnHost } from "../../../../src/core/restore/host-units.ts";
import { listContainers } from "../../../../src/core/restore/state.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";

// Restore reads a container's unit as discovery does: a `kopi-docka.unit` label an untrusted image set
// does not count, and one whose image is gone counts for no unit unless its name agrees.

const UNIT = "kopi-docka.unit";
const inspect = (id: string, image: string, labels: Record<string, string>, imageId = `sha256:${image}`) => ({
  Id: id,
  Name: `/${id}`,
  Image: imageId,
  State: { Status: "running", Running: true },
  Config: { Image: `acme/${image}:1`, Labels: labels },
  Mounts: [],
});
const starts =
  (...prefix: string[]) =>
  (argv: readonly string[]) =>
    prefix.every((p, i) => argv[i] === p);

describe("listContainers: whose unit label it is, from one image inspect", () => {
  const containers = [
    inspect("db", "hostile", { [UNIT]: "app" }),
    inspect("db2", "hostile", { [UNIT]: "app" }),
    inspect("mine", "plain", { [UNIT]: "app" }),
    inspect("gone", "removed", { [UNIT]: "app" }),
    inspect("trusted", "vendor", { [UNIT]: "app" }),
    inspect("web", "hostile", { "com.docker.compose.project": "shop", [UNIT]: "app" }),
    inspect("solo", "hostile", {}),
  ];
  const images = [
    { Id: "sha256:hostile", Config: { Labels: { [UNIT]: "app" } } },
    { Id: "sha256:plain", Config: { Labels: { [UNIT]: "other" } } },
  ];
  const host = (imageArgv: string[]) =>
    new FakeRunner([
      {
        argv: starts("docker", "ps", "-a"),
        stdout: `${containers.map((c) => `${c.Id}\trunning\t`).join("\n")}\n`,
      },
      { argv: starts("docker", "inspect", "--type", "container"), stdout: JSON.stringify(containers) },
      {
        argv: ["docker", "image", "inspect", ...imageArgv],
        stdout: JSON.stringify(images),
        exitCode: 1,
        stderr: "Error: No such image: sha256:removed\n",
      },
    ]);

  test("only the images of containers a unit label could place (no project, untrusted image), once each", async () => {
    const runner = host(["sha256:hostile", "sha256:plain", "sha256:removed"]);
    const config = ConfigSchema.parse({ backup: { trust_image_labels: ["acme/vendor"] } });
    const listed = await listContainers(createDocker(runner), config);
    expect(runner.remaining).toBe(0);
    expect(runner.calls).toHaveLength(3);
    const label = Object.fromEntries(listed.map((c) => [c.name, c.unitLabel]));
    // The image set it / the container's own (the image says another value) / the image is gone.
    expect(label).toEqual({
      db: "image",
      db2: "image",
      mine: undefined,
      gone: "unknown",
      trusted: undefined,
      web: undefined,
      solo: undefined,
    });
    expect(listed.map((c) => [c.name, unitOnHost(c)])).toEqual([
      ["db", "db"],
      ["db2", "db2"],
      ["mine", "app"],
      ["gone", undefined],
      ["trusted", "app"],
      ["web", "shop"],
      ["solo", "solo"],
    ]);
  });

  test("no container claims a unit by label: no image inspect at all", async () => {
    const plain = [inspect("solo", "hostile", {})];
    const runner = new FakeRunner([
      { argv: starts("docker", "ps", "-a"), stdout: "solo\trunning\t\n" },
      { argv: starts("docker", "inspect", "--type", "container"), stdout: JSON.stringify(plain) },
    ]);
    await listContainers(createDocker(runner), ConfigSchema.parse({}));
    expect(runner.calls).toHaveLength(2);
  });
});

describe("unitOnHost", () => {
  const c = (name: string, labels: Record<string, string>, unitLabel?: "image" | "unknown") => ({
    name,
    labels,
    ...(unitLabel ? { unitLabel } : {}),
  });
  test("the compose project first, whoever set it; then the unit label if it counts; then the name", () => {
    expect(unitOnHost(c("x", { "com.docker.compose.project": "p", [UNIT]: "u" }, "image"))).toBe("p");
    expect(unitOnHost(c("x", { [UNIT]: " u " }))).toBe("u");
    expect(unitOnHost(c("x", { [UNIT]: "u" }, "image"))).toBe("x");
    expect(unitOnHost(c("x", { [UNIT]: "  " }))).toBe("x");
  });
  test("image gone: a member of no unit, unless its label and its name agree", () => {
    expect(unitOnHost(c("x", { [UNIT]: "u" }, "unknown"))).toBeUndefined();
    expect(unitOnHost(c("u", { [UNIT]: "u" }, "unknown"))).toBe("u");
    expect(unitOnHost(c("x", { "com.docker.compose.project": "p", [UNIT]: "u" }, "unknown"))).toBe("p");
  });
});
