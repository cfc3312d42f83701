import { describe, expect, test } from "bun:test";
import { rebuildDockerRun } from "../../../../src/core/restore/docker-run.ts";
import { REDACTED, redactInspect } from "../../../../src/core/snapshot/redact.ts";

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
  // env goes to docker in an env file, never in argv
  expect(r.env).toEqual(["MODE=prod"]);
  expect(r.argv).toEqual([
    "--name",
    "web",
    "--restart",
    "unless-stopped",
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

test("a copy's container says whose copy it is; the snapshot's label of that key gives way", () => {
  const forged = { ...inspect, Config: { ...inspect.Config, Labels: { "kopi-docka.copy-of": "billing" } } };
  const r = rebuildDockerRun(forged, { name: "copy_web", labels: { "kopi-docka.copy-of": "web" } });
  const labels = r.argv.flatMap((a, i) => (r.argv[i - 1] === "--label" ? [a] : []));
  expect(labels).toEqual(["kopi-docka.copy-of=web"]);
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
  expect(r.env).toEqual(["MODE=prod"]);
  expect(r.argv.join(" ")).not.toContain("MODE=prod");
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

test.each([
  [
    "a partly redacted value (the password of a URL) refuses like a whole one",
    { Env: [`DATABASE_URL=postgres://u:${REDACTED}@h/db`] },
    "web: DATABASE_URL was redacted in the backup; pass --env-file FILE with DATABASE_URL=<value> lines, or start it by hand",
  ],
  [
    "a redacted label (basic auth) cannot come from an env file: start it by hand",
    { Labels: { "traefik.http.middlewares.a.basicauth.users": REDACTED } },
    "web: label traefik.http.middlewares.a.basicauth.users was redacted in the backup; start it by hand",
  ],
  [
    "a redacted command line: start it by hand",
    { Cmd: ["redis-server", "--requirepass", REDACTED] },
    "web: its command line held a secret that was redacted in the backup; start it by hand",
  ],
  [
    "a value with a line break cannot go through an env file",
    { Env: ["MOTD=hello\nworld"] },
    "web: the value of MOTD has a line break; start it by hand",
  ],
])("%s", (_what, config, refused) => {
  const r = rebuildDockerRun({ ...inspect, Config: { ...inspect.Config, ...config } });
  expect(r.refused).toBe(refused);
  expect(r.env.join(" ")).not.toContain(REDACTED);
});

describe("backed up, then started again: only real secrets stop a --start", () => {
  const roundTrip = (env: string[]) =>
    rebuildDockerRun(redactInspect({ ...inspect, Config: { ...inspect.Config, Env: env } }));

  test("names that merely look secret pass through whole", () => {
    const env = [
      "API_BASE_URL=https://api.example.com/v1",
      "KEYBOARD_LAYOUT=de",
      "AUTHOR=Jane",
      "BYPASS_CACHE=1",
    ];
    const r = roundTrip(env);
    expect(r.refused).toBeUndefined();
    expect(r.env).toEqual(env);
  });

  test.each([
    "DATABASE_URL=postgres://u:s3cret@h/db",
    "MYSQL_PWD=s3cret",
    "SENTRY_DSN=https://k3y@o1.ingest.sentry.io/1",
  ])("%s: refused until an env file supplies it", (entry) => {
    const key = entry.split("=")[0] ?? "";
    expect(roundTrip([entry]).refused).toContain(`${key} was redacted in the backup`);
  });
});

describe("an inspect read back from a snapshot is untrusted", () => {
  const forged = (over: { Mounts?: unknown[]; Image?: string; HostConfig?: Record<string, unknown> }) =>
    rebuildDockerRun({
      ...inspect,
      ...(over.Mounts ? { Mounts: over.Mounts } : {}),
      Config: { ...inspect.Config, ...(over.Image !== undefined ? { Image: over.Image } : {}) },
      HostConfig: { ...inspect.HostConfig, ...over.HostConfig },
    });

  test("a volume 'name' that is a host path, or a ':' in a mount, is refused, never mounted", () => {
    const asPath = forged({ Mounts: [{ Type: "volume", Name: "/etc", Destination: "/x", RW: true }] });
    expect(asPath.refused).toContain('"/etc" is no volume name');
    expect(asPath.argv.join(" ")).not.toContain("/etc:");
    const extraField = forged({
      Mounts: [{ Type: "bind", Source: "/srv/a", Destination: "/x:/y", RW: true }],
    });
    expect(extraField.refused).toContain('mount destination "/x:/y" cannot be passed to docker run');
  });

  test("an image that looks like a flag is refused; privileged and added capabilities are said in the plan", () => {
    expect(forged({ Image: "--privileged" }).refused).toContain('image "--privileged" is no image reference');
    const priv = forged({ HostConfig: { Privileged: true, CapAdd: ["NET_ADMIN"] } });
    expect(priv.refused).toBeUndefined();
    expect(priv.argv).toContain("--privileged");
    expect(priv.warnings).toEqual([
      "web: runs privileged, as recorded in the backup",
      "web: gets capabilities NET_ADMIN, as recorded in the backup",
    ]);
  });
});
