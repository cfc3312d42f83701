import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Discovery, Unit } from "../../src/core/discovery/model.ts";
import { runCli } from "../helpers/cli.ts";
import { describeCompose, runCompose } from "../helpers/compose.ts";
import { run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

const COMPOSE = `version: "3.7"
services:
  db:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    environment:
      DB_PASSWORD: s3cret-value-for-the-test
    volumes: ["data:/data"]
    networks: [back]
  app:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    depends_on: [db]
    volumes: ["./html:/html:ro", "/proc:/host/proc:ro"]
    networks: [back]
  old:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    depends_on: { db: { condition: service_started } }
    labels: ["kopi-docka.stop=false"]
    networks: [back]
  tool:
    image: ${TEST_IMAGE}
    command: ["sleep", "3600"]
    labels: { kopi-docka.exclude: "true" }
    networks: [back]
volumes:
  data: {}
networks:
  back: {}
`;

describeCompose("discovery: list --json on a real docker host", ["docker", "image"], (cmp) => {
  const dir = tempDir("kd-discovery-");
  const project = uniqueName("kddisc").replace(/[^a-z0-9]/g, "");
  const solo = uniqueName("kddisc-solo");
  const soloVolume = uniqueName("kddisc-vol");
  const excluded = uniqueName("kddisc-excl");
  const stopped = uniqueName("kddisc-stopped");
  const compose = (...args: string[]) => runCompose(cmp, ["-p", project, ...args], { cwd: dir.path });
  const cfg = writeTestConfig(join(dir.path, "kd"));
  let discovery: Discovery;
  const unit = (name: string): Unit => {
    const u = discovery.units.find((x) => x.name === name);
    if (!u) throw new Error(`no unit ${name} in ${discovery.units.map((x) => x.name).join(", ")}`);
    return u;
  };
  const c = (service: string) => cmp.container(project, service);
  // v1 labels the files as given on the command line; v2 makes them absolute.
  const labelPath = cmp.name === "v1" ? "docker-compose.yml" : join(dir.path, "docker-compose.yml");

  beforeAll(async () => {
    writeFileSync(join(dir.path, "docker-compose.yml"), COMPOSE);
    mkdirSync(join(dir.path, "html"));
    writeFileSync(join(dir.path, "html", "index.html"), "x".repeat(4321));
    await compose("up", "-d");
    await compose("stop", "old");
    const detached = ["docker", "run", "-d", "--label", `kddisc-test=${project}`];
    await run([...detached, "--name", solo, "-v", `${soloVolume}:/srv`, TEST_IMAGE, "sleep", "3600"]);
    await run([
      ...detached,
      "--name",
      excluded,
      "--label",
      "kopi-docka.exclude=true",
      TEST_IMAGE,
      "sleep",
      "3600",
    ]);
    await run(["docker", "create", "--name", stopped, TEST_IMAGE, "sleep", "3600"]);
    const r = await runCli(["list", "--json", "--sizes", "--config", cfg]);
    if (r.exitCode !== 0) throw new Error(`list failed: ${r.stderr}`);
    discovery = JSON.parse(r.stdout);
  }, 180_000);

  afterAll(async () => {
    await compose("down", "-v", "--remove-orphans").catch(() => undefined);
    await run(["docker", "rm", "-f", solo, excluded, stopped], { check: false });
    await run(["docker", "volume", "rm", "-f", soloVolume], { check: false });
    dir.remove();
  }, 120_000);

  test("the compose project: running and stopped services, the excluded one and /proc left out", () => {
    const u = unit(project);
    expect(u.type).toBe("compose");
    expect(u.excluded).toBeUndefined();
    expect(u.containers.map((x) => [x.name, x.running, x.state])).toEqual([
      [c("app"), true, "running"],
      [c("db"), true, "running"],
      [c("old"), false, "exited"],
    ]);
    expect(u.containers.find((x) => x.name === c("app"))?.compose).toMatchObject({
      project,
      service: "app",
      workingDir: dir.path,
      configFiles: [labelPath],
      dependsOn: ["db"],
      oneoff: false,
      version: cmp.version,
    });
    // the other forms: depends_on as a map with a condition, labels as a list
    const old = u.containers.find((x) => x.name === c("old"));
    expect([old?.compose?.dependsOn, old?.stop]).toEqual([["db"], false]);
    expect(u.composeFiles).toEqual([
      { labelPath, hostPath: join(dir.path, "docker-compose.yml"), found: true },
    ]);
    expect(u.workingDir).toBe(dir.path);
    expect(u.skipped).toEqual([
      { kind: "container", id: c("tool"), reason: "label kopi-docka.exclude=true" },
      {
        kind: "bind",
        id: `${c("app")}:/proc`,
        reason: "host internal path (at or under /proc, backup.host_internal_paths)",
      },
    ]);
  });

  test("its named volume, bind mount (with size) and custom network", () => {
    const u = unit(project);
    expect(
      u.volumes.map((v) => [v.name, v.driver, v.scope, v.usedBy, v.labels["com.docker.compose.volume"]]),
    ).toEqual([[`${project}_data`, "local", "local", [c("db")], "data"]]);
    expect(u.volumes[0]?.mountpoint).toEndWith(`/volumes/${project}_data/_data`);
    expect(u.volumes[0]?.sizeBytes).toBe(0);
    expect(u.bindMounts).toEqual([
      {
        source: join(dir.path, "html"),
        targets: [{ container: c("app"), destination: "/html", readOnly: true }],
        readOnly: true,
        kind: "directory",
        sizeBytes: 4321,
      },
    ]);
    expect(u.networks.map((n) => [n.name, n.driver, n.usedBy])).toEqual([
      [`${project}_back`, "bridge", [c("app"), c("db"), c("old")]],
    ]);
    expect(u.networks[0]?.inspect.Name).toBe(`${project}_back`);
  });

  test("a standalone container is its own unit; a label-excluded one is an excluded unit; stopped standalone is none", () => {
    const s = unit(solo);
    expect(s.type).toBe("standalone");
    expect(s.containers.map((x) => [x.name, x.running, x.stop])).toEqual([[solo, true, true]]);
    expect(s.volumes.map((v) => [v.name, v.usedBy])).toEqual([[soloVolume, [solo]]]);
    expect(s.networks).toEqual([]);
    const e = unit(excluded);
    expect(e.containers).toEqual([]);
    expect(e.excluded).toBe(`every container is excluded (${excluded}: label kopi-docka.exclude=true)`);
    expect(discovery.units.some((u) => u.name === stopped)).toBe(false);
  });

  test("no environment in the output: no env key, no secret value", () => {
    const text = JSON.stringify(discovery);
    expect(text).not.toContain("s3cret-value-for-the-test");
    expect(discovery.units.flatMap((u) => u.containers).some((x) => "env" in x)).toBe(false);
    expect(text).toContain("DB_PASSWORD=***REDACTED***");
    expect(discovery.dockerVersion).toBeTruthy();
  });

  test("the human table names the unit, the stopped service and the reasons", async () => {
    const r = await runCli(["list", "--config", cfg]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`2/3 (stopped: ${c("old")})`);
    expect(r.stdout).toContain(`left out   container ${c("tool")}: label kopi-docka.exclude=true`);
    expect(r.stdout).not.toContain("s3cret-value-for-the-test");
  }, 60_000);
});
