import { expect, test } from "bun:test";
import { rebuildDockerRun } from "../../../../src/core/restore/docker-run.ts";

// `docker run -d --name db --network appnet --network-alias dbalias --hostname db.local ...` as docker
// 20.10 inspects it: the short id is an alias and would be the hostname, both docker's own.
const ID = "f8282550b4501234567890";
const inspect = (over: { config?: object; host?: object; endpoint?: object; networks?: object } = {}) => ({
  Id: ID,
  Name: "/db",
  Config: { Image: "busybox", Hostname: "db.local", Env: [], ...over.config },
  HostConfig: {
    NetworkMode: "appnet",
    RestartPolicy: { Name: "no", MaximumRetryCount: 0 },
    LogConfig: { Type: "json-file", Config: {} },
    ShmSize: 67108864,
    IpcMode: "private",
    Runtime: "runc",
    Memory: 0,
    Dns: [],
    Ulimits: [],
    ...over.host,
  },
  NetworkSettings: {
    Networks: {
      appnet: { Aliases: ["dbalias", ID.slice(0, 12)], IPAMConfig: null, ...over.endpoint },
      ...over.networks,
    },
  },
});
const after = (argv: string[], flag: string) =>
  argv.flatMap((a, i) => (a === flag ? [argv[i + 1] as string] : []));

test("the primary network's aliases and a chosen hostname are carried, docker's own short id is not", () => {
  const r = rebuildDockerRun(inspect());
  expect(after(r.argv, "--network")).toEqual(["appnet"]);
  expect(after(r.argv, "--network-alias")).toEqual(["dbalias"]);
  expect(after(r.argv, "--hostname")).toEqual(["db.local"]);
  // Before the image: options, never arguments of its command.
  expect(r.argv.indexOf("--network-alias")).toBeLessThan(r.argv.indexOf("busybox"));
  expect(r.warnings).toEqual([]);
});

test("a default hostname (the short id), the default bridge, host networking: nothing of the kind passed", () => {
  const plain = rebuildDockerRun(inspect({ config: { Hostname: ID.slice(0, 12) } }));
  expect(plain.argv).not.toContain("--hostname");
  const bridge = rebuildDockerRun(
    inspect({ host: { NetworkMode: "default" }, networks: { bridge: { Aliases: null } } }),
  );
  expect(bridge.argv).not.toContain("--network-alias");
  const hostNet = rebuildDockerRun(
    inspect({ host: { NetworkMode: "host" }, config: { Hostname: "myhost" } }),
  );
  expect(hostNet.argv).not.toContain("--hostname");
  expect(hostNet.argv).not.toContain("--network-alias");
});

test("untrusted values: an alias or hostname that is no DNS name is not passed, and the plan says so", () => {
  const r = rebuildDockerRun(
    inspect({
      config: { Hostname: "--privileged" },
      endpoint: { Aliases: ["ok-alias", "-x", "a b", "a:b"] },
    }),
  );
  expect(r.argv).not.toContain("--privileged");
  expect(after(r.argv, "--network-alias")).toEqual(["ok-alias"]);
  expect(r.argv).not.toContain("--hostname");
  expect(r.warnings).toEqual([
    'db: not carried over, set by hand if needed: hostname "--privileged", network alias "-x", network alias "a b", network alias "a:b"',
  ]);
});

test("tty, stdin, init and a read-only root are carried", () => {
  const r = rebuildDockerRun(
    inspect({ config: { Tty: true, OpenStdin: true }, host: { Init: true, ReadonlyRootfs: true } }),
  );
  for (const f of ["--tty", "--interactive", "--init", "--read-only"]) expect(r.argv).toContain(f);
});

test("limits, rotation, name resolution and tmpfs are carried; what is not is named in one warning", () => {
  const r = rebuildDockerRun(
    inspect({
      endpoint: { IPAMConfig: { IPv4Address: "10.9.0.5" } },
      host: {
        Memory: 268435456,
        NanoCpus: 500000000,
        PidsLimit: 100,
        Dns: ["1.1.1.1"],
        ExtraHosts: ["db:10.0.0.1"],
        LogConfig: { Type: "syslog", Config: {} },
        Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }],
        SecurityOpt: ["seccomp=unconfined"],
        Devices: [{ PathOnHost: "/dev/fuse" }],
        PidMode: "host",
        ShmSize: 1073741824,
      },
      networks: { other: { Aliases: ["side", ID.slice(0, 12)] } },
    }),
  );
  for (const f of [
    "--memory=268435456",
    "--cpus=0.5",
    "--pids-limit=100",
    "--dns=1.1.1.1",
    "--add-host=db:10.0.0.1",
    "--ulimit=nofile=1024:2048",
    "--shm-size=1073741824",
  ])
    expect(r.argv).toContain(f);
  // A log driver that sends logs elsewhere, and what widens what the container may do: never.
  for (const f of r.argv) expect(f).not.toMatch(/^--(ip|log-driver|security-opt|device|pid)\b/);
  expect(r.warnings).toEqual([
    'db: not carried over, set by hand if needed: its static IP address, log driver "syslog", devices, ' +
      "security options, --pid host",
    "db: also attached to other (aliases side); connect it by hand",
  ]);
});
