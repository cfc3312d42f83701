import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gatherFacts, selectContainerIds } from "../../../../src/core/discovery/docker-facts.ts";
import { createDocker } from "../../../../src/core/docker/docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { fixture } from "./fixtures.ts";

// Discovery through the real client over the strict fake runner: these tests count docker processes.

const ps = readFileSync(
  join(import.meta.dir, "..", "..", "..", "fixtures", "docker", "v1", "ps.txt"),
  "utf8",
);
const version = JSON.stringify({
  Client: { Version: "20.10.24" },
  Server: { Version: "20.10.24", ApiVersion: "1.41" },
});
const starts =
  (...prefix: string[]) =>
  (argv: readonly string[]) =>
    prefix.every((p, i) => argv[i] === p);

test("selectContainerIds: live containers and stopped compose containers, not stopped standalone ones", () => {
  const rows = [
    ["a", "running", ""],
    ["b", "exited", "proj"],
    ["c", "exited", ""],
    ["d", "paused", ""],
    ["e", "restarting", ""],
    ["f", "created", "proj"],
  ].map(([id = "", state = "", project = ""]) => ({ id, state, project }));
  expect(selectContainerIds(rows)).toEqual(["a", "b", "d", "e", "f"]);
});

/** What `docker image inspect` answers on the captured host: its one image. */
const IMAGES = { stdout: JSON.stringify(fixture("v1", "images.json")) };

/** A host of `n` copies of the captured v1 containers, each with its own id. */
function host(n: number, images: { stdout: string; stderr?: string; exitCode?: number } = IMAGES) {
  const base = fixture("v1", "inspect.json") as { Id: string }[];
  const containers = Array.from({ length: n }, (_, i) =>
    base.map((c) => ({ ...c, Id: `${c.Id.slice(0, 60)}${String(i).padStart(4, "0")}` })),
  ).flat();
  const lines = ps.trim().split("\n");
  const rows = Array.from({ length: n }, (_, i) =>
    lines.map((l) => l.replace(/^(\w{60})\w{4}/, `$1${String(i).padStart(4, "0")}`)),
  ).flat();
  return new FakeRunner(
    [],
    [
      { argv: ["docker", "version", "--format", "{{json .}}"], stdout: version },
      { argv: starts("docker", "ps", "-a", "--no-trunc"), stdout: `${rows.join("\n")}\n` },
      { argv: starts("docker", "inspect", "--type", "container"), stdout: JSON.stringify(containers) },
      { argv: starts("docker", "volume", "inspect"), stdout: JSON.stringify(fixture("v1", "volumes.json")) },
      {
        argv: starts("docker", "network", "inspect"),
        stdout: JSON.stringify(fixture("v1", "networks.json")),
      },
      { argv: starts("docker", "image", "inspect"), ...images },
    ],
  );
}

test("gatherFacts: six docker calls on the captured v1 host; builtin networks are not inspected", async () => {
  const runner = host(1);
  const facts = await gatherFacts(createDocker(runner));
  expect(runner.calls.length).toBe(6);
  expect(facts.containers.length).toBe(3);
  expect(facts.dockerVersion).toBe("20.10.24");
  const args = (cmd: string) =>
    runner.calls.find((c) => c.argv.slice(1).join(" ").startsWith(cmd))?.argv.slice(3);
  expect(args("volume inspect")).toEqual(["kdfixture_dbdata", "kdfixture_solo"]);
  expect(args("network inspect")).toEqual(["kdfixture_backend"]);
  expect(runner.calls.find((c) => c.argv[1] === "inspect")?.argv.length).toBe(4 + 3);
});

test("gatherFacts: the number of docker processes does not grow with the number of containers", async () => {
  const counts: number[] = [];
  for (const n of [1, 10, 300]) {
    const runner = host(n);
    const facts = await gatherFacts(createDocker(runner));
    expect(facts.containers).toHaveLength(3 * n);
    counts.push(runner.calls.length);
  }
  expect(counts).toEqual([6, 6, 6]);
});

test("gatherFacts: an image deleted under its containers (`docker rmi -f`) is absent, not an error", async () => {
  const id = "sha256:011c4e1ceac41fbf2220c5b94a4733db6acfcb4c7efa895e2047343bb3a2d68b";
  // What docker 20.10 prints for it.
  const stderr = `Error response from daemon: no such image: ${id}: No such image: ${id}\n`;
  const facts = await gatherFacts(createDocker(host(1, { stdout: "[]\n", stderr, exitCode: 1 })));
  expect(facts.containers.map((c) => c.Image)).toEqual([id, id, id]);
  expect(facts.images).toEqual([]);
});

test("gatherFacts: a failed inspect with no output is an error naming docker's message", async () => {
  const runner = new FakeRunner(
    [],
    [
      { argv: ["docker", "version", "--format", "{{json .}}"], stdout: version },
      { argv: starts("docker", "ps"), stdout: "x\trunning\t\n" },
      { argv: starts("docker", "inspect"), exitCode: 1, stderr: "permission denied" },
    ],
  );
  await expect(gatherFacts(createDocker(runner))).rejects.toThrow("permission denied");
});

test("gatherFacts: no daemon → dependency_missing", async () => {
  const runner = new FakeRunner(
    [],
    [
      { argv: starts("docker", "version"), exitCode: 1, stderr: "Cannot connect to the Docker daemon" },
      { argv: starts("docker", "ps"), exitCode: 1, stderr: "Cannot connect to the Docker daemon" },
    ],
  );
  await expect(gatherFacts(createDocker(runner))).rejects.toMatchObject({ code: "dependency_missing" });
});
