import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ARGV_CHUNK, gatherFacts, selectContainerIds } from "../../../src/core/discovery/docker-facts.ts";
import { createDocker } from "../../../src/core/docker/docker.ts";
import { FakeRunner } from "../../fakes/fake-runner.ts";
import { fixture } from "./fixtures.ts";

const ps = readFileSync(join(import.meta.dir, "..", "..", "fixtures", "docker", "v1", "ps.txt"), "utf8");
const version = JSON.stringify({
  Client: { Version: "20.10.24" },
  Server: { Version: "20.10.24", ApiVersion: "1.41" },
});
const starts =
  (...prefix: string[]) =>
  (argv: readonly string[]) =>
    prefix.every((p, i) => argv[i] === p);

test("selectContainerIds: live containers and stopped compose containers, not stopped standalone ones", () => {
  const out =
    "a\trunning\t\nb\texited\tproj\nc\texited\t\nd\tpaused\t\ne\trestarting\t\nf\tcreated\tproj\n\n";
  expect(selectContainerIds(out)).toEqual(["a", "b", "d", "e", "f"]);
});

test("gatherFacts: six docker calls on the captured v1 host; builtin networks are not inspected", async () => {
  const runner = new FakeRunner(
    [],
    [
      { argv: ["docker", "version", "--format", "{{json .}}"], stdout: version },
      { argv: starts("docker", "ps", "-a", "--no-trunc"), stdout: ps },
      {
        argv: starts("docker", "inspect", "--type", "container"),
        stdout: JSON.stringify(fixture("v1", "inspect.json")),
      },
      { argv: starts("docker", "volume", "inspect"), stdout: JSON.stringify(fixture("v1", "volumes.json")) },
      {
        argv: starts("docker", "network", "inspect"),
        stdout: JSON.stringify(fixture("v1", "networks.json")),
      },
      { argv: starts("docker", "image", "inspect"), stdout: JSON.stringify(fixture("v1", "images.json")) },
    ],
  );
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

test("gatherFacts: an id that vanished between ps and inspect is tolerated; chunks beyond ARGV_CHUNK", async () => {
  const ids = Array.from({ length: ARGV_CHUNK + 5 }, (_, i) => `id${i}`);
  const psOut = ids.map((id) => `${id}\trunning\t`).join("\n");
  const inspected: string[][] = [];
  const runner = new FakeRunner(
    [],
    [
      { argv: ["docker", "version", "--format", "{{json .}}"], stdout: version },
      { argv: starts("docker", "ps"), stdout: psOut },
      {
        argv: (a) => {
          if (a[1] !== "inspect") return false;
          inspected.push([...a.slice(4)]);
          return true;
        },
        exitCode: 1,
        stderr: "Error: No such object: id3",
        stdout: "[]",
      },
    ],
  );
  const facts = await gatherFacts(createDocker(runner));
  expect(facts.containers).toEqual([]);
  expect(inspected.map((c) => c.length)).toEqual([ARGV_CHUNK, 5]);
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
