import { expect, test } from "bun:test";
import { REDACTED, rebuildDockerRun } from "../../../src/core/restore/docker-run.ts";

const inspect = {
  Name: "/web",
  Config: {
    Image: "nginx:1.27",
    Env: ["PATH=/usr/bin", "MODE=prod"],
    Cmd: ["nginx", "-g", "daemon off;"],
    Entrypoint: ["/docker-entrypoint.sh"],
    User: "101",
    WorkingDir: "/srv",
    Labels: { app: "web", "com.docker.compose.project": "x" },
  },
  HostConfig: {
    RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 },
    PortBindings: {
      "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }],
      "53/udp": [{ HostIp: "", HostPort: "53" }],
    },
    NetworkMode: "webnet",
  },
  Mounts: [
    { Type: "volume", Name: "webdata", Destination: "/data", RW: true },
    { Type: "bind", Source: "/srv/conf", Destination: "/etc/nginx/conf.d", RW: false },
  ],
  NetworkSettings: { Networks: { webnet: {} } },
};

test("rebuilds name, restart, env, mounts, ports, network, labels, user, workdir, entrypoint and cmd", () => {
  const r = rebuildDockerRun(inspect);
  expect(r.refused).toBeUndefined();
  expect(r.argv).toEqual([
    "--name",
    "web",
    "--restart",
    "unless-stopped",
    "-e",
    "MODE=prod",
    "-v",
    "webdata:/data",
    "-v",
    "/srv/conf:/etc/nginx/conf.d:ro",
    "-p",
    "127.0.0.1:8080:80",
    "-p",
    "53:53/udp",
    "--network",
    "webnet",
    "--label",
    "app=web",
    "--user",
    "101",
    "--workdir",
    "/srv",
    "--entrypoint",
    "/docker-entrypoint.sh",
    "nginx:1.27",
    "nginx",
    "-g",
    "daemon off;",
  ]);
});

test("names are mapped for a copy", () => {
  const r = rebuildDockerRun(inspect, {
    name: "copy_web",
    volumeName: (n) => `copy_${n}`,
    bindPath: (s) => `/opt/copy/binds${s}`,
    networkName: (n) => `copy_${n}`,
  });
  expect(r.argv).toContain("copy_webdata:/data");
  expect(r.argv).toContain("/opt/copy/binds/srv/conf:/etc/nginx/conf.d:ro");
  expect(r.argv.slice(r.argv.indexOf("--network"), r.argv.indexOf("--network") + 2)).toEqual([
    "--network",
    "copy_webnet",
  ]);
});

test("a redacted secret refuses the start instead of passing the placeholder", () => {
  const r = rebuildDockerRun({ ...inspect, Config: { ...inspect.Config, Env: [`DB_PASSWORD=${REDACTED}`] } });
  expect(r.refused).toContain("DB_PASSWORD");
});

test("the refusal names every redacted variable and the --env-file way to supply them", () => {
  const env = [`DB_PASSWORD=${REDACTED}`, `API_TOKEN=${REDACTED}`, "MODE=prod"];
  const r = rebuildDockerRun({ ...inspect, Config: { ...inspect.Config, Env: env } });
  expect(r.refused).toBe(
    "web: DB_PASSWORD, API_TOKEN were redacted in the backup; pass --env-file FILE with " +
      "DB_PASSWORD=<value>, API_TOKEN=<value> lines, or start it by hand",
  );
});

test("an env file supplying the redacted keys: docker reads it, no placeholder and no value in argv", () => {
  const env = [`DB_PASSWORD=${REDACTED}`, "MODE=prod", "LEVEL=1"];
  const r = rebuildDockerRun(
    { ...inspect, Config: { ...inspect.Config, Env: env } },
    { envFile: { path: "/root/web.env", keys: ["DB_PASSWORD", "LEVEL"] } },
  );
  expect(r.refused).toBeUndefined();
  expect(r.argv.join(" ")).not.toContain(REDACTED);
  expect(r.argv.join(" ")).not.toContain("LEVEL=1");
  expect(r.argv.slice(2, 6)).toEqual(["--restart", "unless-stopped", "--env-file", "/root/web.env"]);
  expect(r.argv).toContain("MODE=prod");
});

test("an env file lacking one of the redacted keys still refuses, naming only that one", () => {
  const env = [`DB_PASSWORD=${REDACTED}`, `API_TOKEN=${REDACTED}`];
  const r = rebuildDockerRun(
    { ...inspect, Config: { ...inspect.Config, Env: env } },
    { envFile: { path: "/root/web.env", keys: ["DB_PASSWORD"] } },
  );
  expect(r.refused).toContain("API_TOKEN was redacted");
  expect(r.refused).not.toContain("DB_PASSWORD");
});
