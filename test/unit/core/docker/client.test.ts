import { describe, expect, test } from "bun:test";
import { createDocker, type Docker } from "../../../../src/core/docker/docker.ts";
import { ARGV_CHUNK } from "../../../../src/core/docker/inspect.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { fixture } from "../discovery/fixtures.ts";

// The client's own tests: which argv each named operation spawns, and what it makes of docker's answer.

const state = { Status: "running", Running: true, StartedAt: "2025-01-01T00:00:00Z" };

interface Case {
  name: string;
  call: (d: Docker) => Promise<unknown>;
  argv: Expectation["argv"];
  answer?: Partial<Expectation>;
  result?: unknown;
}

const cases: Case[] = [
  {
    name: "containersLabelled",
    call: (d) =>
      d.containersLabelled({ "com.docker.compose.project": "copy", "com.docker.compose.service": "db" }),
    argv: [
      "docker",
      "ps",
      "-a",
      "--no-trunc",
      "--filter",
      "label=com.docker.compose.project=copy",
      "--filter",
      "label=com.docker.compose.service=db",
      "--format",
      "{{.Names}}\t{{.State}}",
    ],
    answer: { stdout: "copy-db-1\trunning\ncopy-db-2\texited\n\n" },
    result: [
      { name: "copy-db-1", running: true },
      { name: "copy-db-2", running: false },
    ],
  },
  {
    name: "listContainers",
    call: (d) => d.listContainers(),
    argv: [
      "docker",
      "ps",
      "-a",
      "--no-trunc",
      "--format",
      '{{.ID}}\t{{.State}}\t{{.Label "com.docker.compose.project"}}',
    ],
    answer: { stdout: "a1\trunning\tshop\nb2\texited\t\n\n" },
    result: [
      { id: "a1", state: "running", project: "shop" },
      { id: "b2", state: "exited", project: "" },
    ],
  },
  {
    name: "containerState",
    call: (d) => d.containerState("web"),
    argv: ["docker", "inspect", "--format", "{{json .State}}", "web"],
    answer: { stdout: `${JSON.stringify(state)}\n` },
    result: state,
  },
  {
    name: "exists: yes",
    call: (d) => d.exists("web"),
    argv: ["docker", "inspect", "--format", "{{.Id}}", "web"],
    answer: { stdout: "abc\n" },
    result: true,
  },
  {
    name: "exists: no",
    call: (d) => d.exists("web"),
    argv: ["docker", "inspect", "--format", "{{.Id}}", "web"],
    answer: { exitCode: 1, stderr: "Error: No such object: web" },
    result: false,
  },
  {
    name: "isRunning",
    call: (d) => d.isRunning("c1"),
    argv: ["docker", "inspect", "-f", "{{.State.Running}}", "c1"],
    answer: { stdout: "true\n" },
    result: true,
  },
  {
    name: "isRunning: gone",
    call: (d) => d.isRunning("c1"),
    argv: ["docker", "inspect", "-f", "{{.State.Running}}", "c1"],
    answer: { exitCode: 1, stderr: "Error: No such object: c1" },
    result: false,
  },
  { name: "stop", call: (d) => d.stop("c1", 7), argv: ["docker", "stop", "-t", "7", "c1"] },
  { name: "start", call: (d) => d.start("c1"), argv: ["docker", "start", "c1"] },
  {
    name: "setRestartPolicy",
    call: (d) => d.setRestartPolicy("c1", "on-failure:3"),
    argv: ["docker", "update", "--restart=on-failure:3", "c1"],
  },
  {
    name: "run: env values travel in the env file (the id goes to a private cidfile: run-cleanup.test.ts)",
    call: (d) => d.run({ args: ["--name", "web", "busybox"], envFile: "/run/kd/web.env" }),
    argv: (a) =>
      /^--cidfile=\/.+\/cid$/.test(a[5] ?? "") &&
      JSON.stringify([...a.slice(0, 5), ...a.slice(6)]) ===
        JSON.stringify(["docker", "run", "-d", "--env-file", "/run/kd/web.env", "--name", "web", "busybox"]),
  },
  {
    name: "create",
    call: (d) => d.create({ args: ["--name", "web", "busybox"] }),
    argv: ["docker", "create", "--name", "web", "busybox"],
  },
  {
    name: "volumeCreate",
    call: (d) =>
      d.volumeCreate({ name: "v", driver: "local", options: { type: "tmpfs" }, labels: { a: "1" } }),
    argv: ["docker", "volume", "create", "--driver", "local", "--opt", "type=tmpfs", "--label", "a=1", "v"],
  },
  {
    name: "volumeMountpoint",
    call: (d) => d.volumeMountpoint("v"),
    argv: ["docker", "volume", "inspect", "--format", "{{.Mountpoint}}", "v"],
    answer: { stdout: "/var/lib/docker/volumes/v/_data\n" },
    result: "/var/lib/docker/volumes/v/_data",
  },
  {
    name: "volumeInspect: docker's nulls read as empty",
    call: (d) => d.volumeInspect(["v"]),
    argv: ["docker", "volume", "inspect", "v"],
    answer: {
      stdout: JSON.stringify([{ Name: "v", Driver: "local", Mountpoint: "/m", Labels: null, Options: null }]),
    },
    result: [{ Name: "v", Driver: "local", Mountpoint: "/m", Labels: {}, Options: {} }],
  },
  {
    name: "networkCreate",
    call: (d) =>
      d.networkCreate({
        name: "n",
        driver: "bridge",
        ipamDriver: "default",
        ipam: [{ subnet: "10.9.0.0/16", gateway: "10.9.0.1", auxAddresses: { host: "10.9.0.5" } }],
        internal: true,
        attachable: true,
        labels: { a: "1" },
        options: { "com.docker.network.bridge.name": "br9" },
      }),
    argv: [
      "docker",
      "network",
      "create",
      "--driver",
      "bridge",
      "--subnet",
      "10.9.0.0/16",
      "--gateway",
      "10.9.0.1",
      "--aux-address",
      "host=10.9.0.5",
      "--internal",
      "--attachable",
      "--label",
      "a=1",
      "--opt",
      "com.docker.network.bridge.name=br9",
      "n",
    ],
  },
  { name: "networkRemove", call: (d) => d.networkRemove("n"), argv: ["docker", "network", "rm", "n"] },
  {
    name: "networkConnect",
    call: (d) => d.networkConnect("n", "web"),
    argv: ["docker", "network", "connect", "n", "web"],
  },
  {
    name: "networkDisconnect --force",
    call: (d) => d.networkDisconnect("n", "web", { force: true }),
    argv: ["docker", "network", "disconnect", "-f", "n", "web"],
  },
  {
    name: "imageInspect",
    call: (d) => d.imageInspect(["sha256:1"]),
    argv: ["docker", "image", "inspect", "sha256:1"],
    answer: { stdout: JSON.stringify([{ Id: "sha256:1", RepoDigests: null }]) },
    result: [{ Id: "sha256:1", RepoDigests: [], Config: { Labels: {} } }],
  },
];

describe("each operation spawns one argv and reads docker's answer", () => {
  test.each(cases)("$name", async (c) => {
    const runner = new FakeRunner([{ argv: c.argv, ...c.answer }]);
    const result = await c.call(createDocker(runner));
    expect(runner.remaining).toBe(0);
    expect(runner.calls).toHaveLength(1);
    if ("result" in c) expect(result).toEqual(c.result);
  });
});

describe("inspectContainers", () => {
  const inspect = (o: Partial<Expectation>) => ({
    argv: (a: readonly string[]) => a[1] === "inspect" && a[2] === "--type",
    ...o,
  });

  test("parses the captured fixture without rewriting it: what is written to a recipe is what docker printed", async () => {
    const raw = fixture("v1", "inspect.json");
    const runner = new FakeRunner([inspect({ stdout: JSON.stringify(raw) })]);
    const got = await createDocker(runner).inspectContainers(["a", "b", "c"]);
    expect(runner.calls[0]?.argv).toEqual(["docker", "inspect", "--type", "container", "a", "b", "c"]);
    expect(JSON.parse(JSON.stringify(got))).toEqual(raw);
  });

  test.each([
    ["one name vanished: the rest is used", 1, "[]", "Error: No such container: x\n", "ok"],
    ["a volume that does not exist (newer wording)", 1, "[]", "Error: get v: no such volume\n", "ok"],
    ["a network that does not exist", 1, "[]", "Error response from daemon: network n not found\n", "ok"],
    ["no daemon", 1, "[]", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock\n", "throws"],
    ["failed with no output", 1, "", "permission denied\n", "throws"],
    ["not JSON", 0, "<html>", "", "throws"],
    ["another shape", 0, '[{"Id": 3}]', "", "throws"],
  ])("%s", async (_name, exitCode, stdout, stderr, outcome) => {
    const runner = new FakeRunner([inspect({ exitCode, stdout, stderr })]);
    const p = createDocker(runner).inspectContainers(["x"]);
    if (outcome === "ok") expect(await p).toEqual([]);
    else await expect(p).rejects.toMatchObject({ code: "process_failed" });
  });

  test(`one process per ${ARGV_CHUNK} names, duplicates asked once`, async () => {
    const ids = Array.from({ length: ARGV_CHUNK + 5 }, (_, i) => `id${i}`);
    const runner = new FakeRunner([], [inspect({ stdout: "[]" })]);
    await createDocker(runner).inspectContainers([...ids, "id0", "id1"]);
    expect(runner.calls.map((c) => c.argv.length - 4)).toEqual([ARGV_CHUNK, 5]);
  });
});

describe("waitRunning", () => {
  const answers = (...states: object[]) =>
    new FakeRunner(
      states.map((s) => ({ argv: (a: readonly string[]) => a[1] === "inspect", stdout: JSON.stringify(s) })),
    );
  const sleep = async () => {};

  test("waits for healthy when the container has a healthcheck", async () => {
    const runner = answers(
      { ...state, Health: { Status: "starting" } },
      { ...state, Health: { Status: "healthy" } },
    );
    const r = await createDocker(runner).waitRunning("c1", { timeoutSec: 60, healthcheck: true, sleep });
    expect(r.ok).toBe(true);
    expect(runner.calls).toHaveLength(2);
  });

  test("a container that exited says so, and never throws", async () => {
    const runner = answers({ Status: "exited", Running: false });
    const r = await createDocker(runner).waitRunning("c1", { timeoutSec: 0, healthcheck: false, sleep });
    expect(r).toMatchObject({ ok: false, running: false, reason: "exited after 0s" });
  });

  test('exited under restart policy "no": the wait ends at once, with the exit code', async () => {
    const exited = { ...state, Status: "exited", Running: false, ExitCode: 3 };
    const runner = answers(exited, { ...state, Running: true });
    const r = await createDocker(runner).waitRunning("c1", {
      timeoutSec: 60,
      healthcheck: false,
      restartPolicy: "no",
      sleep,
    });
    expect(r).toMatchObject({ ok: false, running: false, state: { ExitCode: 3 } });
    expect(r.ok ? "" : r.reason).toStartWith("exited with code 3 right after it was started");
    expect(runner.calls).toHaveLength(1);
  });

  test('exited 0 under "on-failure[:N]": docker never starts it again, the wait ends at once', async () => {
    for (const restartPolicy of ["on-failure", "on-failure:3"]) {
      const exited = { ...state, Status: "exited", Running: false, ExitCode: 0 };
      const runner = answers(exited, { ...state, Running: true });
      const r = await createDocker(runner).waitRunning("c1", {
        timeoutSec: 60,
        healthcheck: false,
        restartPolicy,
        sleep,
      });
      expect(r).toMatchObject({ ok: false, running: false, state: { ExitCode: 0 } });
      expect(r.ok ? "" : r.reason).toStartWith("exited with code 0 right after it was started");
      expect(runner.calls).toHaveLength(1);
    }
  });

  test('exited 1 under "on-failure": docker starts it again, the wait goes on', async () => {
    const exited = { ...state, Status: "exited", Running: false, ExitCode: 1 };
    const runner = answers(exited, { ...state, Status: "running", Running: true });
    const r = await createDocker(runner).waitRunning("c1", {
      timeoutSec: 60,
      healthcheck: false,
      restartPolicy: "on-failure",
      sleep,
    });
    expect(r.ok).toBe(true);
    expect(runner.calls).toHaveLength(2);
  });

  test("Restarting (docker reads Running=true between two attempts of a crash loop) is not running: the wait goes on", async () => {
    const loop = { ...state, Status: "restarting", Running: true, Restarting: true, ExitCode: 1 };
    const again = { ...state, StartedAt: "2025-01-01T00:00:01Z" };
    const runner = answers(loop, loop, again);
    const r = await createDocker(runner).waitRunning("c1", {
      timeoutSec: 60,
      healthcheck: false,
      restartPolicy: "always",
      sleep,
    });
    expect(r).toEqual({ ok: true, state: again });
    expect(runner.calls).toHaveLength(3);
  });

  test("still restarting at the deadline: not running (a failed start, not a health problem), with its exit code", async () => {
    const loop = { ...state, Status: "restarting", Running: true, Restarting: true, ExitCode: 1 };
    const runner = answers(loop);
    const r = await createDocker(runner).waitRunning("c1", {
      timeoutSec: 0,
      healthcheck: true,
      restartPolicy: "always",
      sleep,
    });
    expect(r).toMatchObject({ ok: false, running: false, state: { Restarting: true } });
    expect(r.ok ? "" : r.reason).toBe(
      "restarting after 0s: it exits (last exit code 1) and its restart policy starts it again",
    );
  });

  test("exited under a policy that starts it again: the wait goes on", async () => {
    const exited = { ...state, Status: "exited", Running: false, ExitCode: 1 };
    const runner = answers(exited, { ...state, Status: "running", Running: true });
    const r = await createDocker(runner).waitRunning("c1", {
      timeoutSec: 60,
      healthcheck: false,
      restartPolicy: "always",
      sleep,
    });
    expect(r.ok).toBe(true);
    expect(runner.calls).toHaveLength(2);
  });
});

describe("compose", () => {
  test.each([
    ["the v2 plugin", [0], ["docker", "compose"]],
    ["v1 when the plugin is missing", [1, 0], ["docker-compose"]],
    ["neither", [1, 1], undefined],
  ] as const)("composeVersion: %s", async (_name, exits, command) => {
    const runner = new FakeRunner(
      [
        { argv: ["docker", "compose", "version", "--short"], exitCode: exits[0], stdout: "2.29.1\n" },
        { argv: ["docker-compose", "version", "--short"], exitCode: exits[1] ?? 1, stdout: "1.29.2\n" },
      ].slice(0, exits.length),
    );
    const v = await createDocker(runner).composeVersion();
    expect(v?.command).toEqual(command);
  });

  test.each([
    ["v1", ["docker-compose"]],
    ["v2", ["docker", "compose"]],
  ] as const)(
    "docker.compose = %s asks only that compose, and composeUp runs it even when it does not answer",
    async (choice, command) => {
      const runner = new FakeRunner([
        { argv: [...command, "version", "--short"], exitCode: 1 },
        { argv: [...command, "version", "--short"], exitCode: 1 },
        { argv: [...command, "-p", "shop", "--project-directory", "/t", "-f", "/t/a.yml", "up", "-d"] },
      ]);
      const docker = createDocker(runner, { compose: choice });
      expect(await docker.composeVersion()).toBeUndefined();
      await docker.composeUp({ project: "shop", files: ["/t/a.yml"], cwd: "/t" });
      expect(runner.remaining).toBe(0);
    },
  );

  test("composeUp runs in the target dir, which is the project directory, with the project name and every file", async () => {
    const runner = new FakeRunner([
      { argv: ["docker", "compose", "version", "--short"], stdout: "2.29.1\n" },
      {
        argv: [
          "docker",
          "compose",
          "-p",
          "shop",
          "--project-directory",
          "/t",
          "-f",
          "/t/a.yml",
          "-f",
          "/t/b.yml",
          "up",
          "-d",
        ],
        check: (o) => expect(o.cwd).toBe("/t"),
      },
    ]);
    await createDocker(runner).composeUp({ project: "shop", files: ["/t/a.yml", "/t/b.yml"], cwd: "/t" });
    expect(runner.remaining).toBe(0);
  });
});
