import { describe, expect, test } from "bun:test";
import { guessDatabase, parseDependsOnLabel } from "../../../../src/core/discovery/labels.ts";
import { parseEnv, toContainerInfo } from "../../../../src/core/discovery/parse.ts";
import { inspected } from "./fixtures.ts";

const byName = (scenario: string) => {
  const all = new Map(inspected(scenario).map((c) => [toContainerInfo(c).name, c]));
  return (name: string) => {
    const c = all.get(name);
    if (!c) throw new Error(`no ${name} in the ${scenario} fixture`);
    return c;
  };
};

describe("toContainerInfo on captured compose v1 inspect output", () => {
  const raw = byName("v1");
  test("a running compose service with a named volume and kopi-docka.stop=false", () => {
    const db = toContainerInfo(raw("kdfixture_db_1"), ["busybox@sha256:abc"]);
    expect(db).toMatchObject({
      name: "kdfixture_db_1",
      image: "kopi-docka-test/busybox:1",
      state: "running",
      running: true,
      restartPolicy: "no",
      stop: false,
      networks: ["kdfixture_backend"],
      imageDigests: ["busybox@sha256:abc"],
      compose: {
        project: "kdfixture",
        service: "db",
        workingDir: "/tmp/kdfix/proj",
        configFiles: ["docker-compose.yml"],
        dependsOn: [],
        containerNumber: 1,
        oneoff: false,
        version: "1.29.2",
      },
    });
    expect(db.imageId).toStartWith("sha256:");
    expect(db.mounts).toEqual([
      {
        type: "volume",
        source: "/var/lib/docker/volumes/kdfixture_dbdata/_data",
        destination: "/var/lib/data",
        readOnly: false,
        volumeName: "kdfixture_dbdata",
      },
    ]);
    expect(db.env.POSTGRES_PASSWORD).toBe("hunter2");
    expect(db.stopTimeout).toBeUndefined();
    expect(db.inspect).toBe(raw("kdfixture_db_1"));
  });

  test("a stopped service: binds, HostConfig.Tmpfs as a tmpfs mount, its own stop timeout", () => {
    const app = toContainerInfo(raw("kdfixture_app_1"));
    expect(app).toMatchObject({ state: "exited", running: false, stop: true, stopTimeout: 20 });
    expect(app.mounts.map((m) => [m.type, m.source, m.destination, m.readOnly])).toEqual([
      ["bind", "/proc", "/host/proc", true],
      ["bind", "/tmp/kdfix/proj/data", "/app/data", true],
      ["tmpfs", "", "/tmp/cache", false],
    ]);
  });

  test("a standalone container: health, no compose info", () => {
    const solo = toContainerInfo(raw("kdfixture-solo"));
    expect(solo.compose).toBeUndefined();
    expect(solo.health).toBe("starting");
    expect(solo.stopTimeout).toBe(45);
    expect(solo.labels["kopi-docka.unit"]).toBe("tools");
  });
});

describe("compose v2 labels", () => {
  const raw = byName("v2");
  test("absolute config files, depends_on from the label, database from the image", () => {
    const app = toContainerInfo(raw("shop-app-1"));
    expect(app.compose?.configFiles).toEqual([
      "/opt/stacks/shop/compose.yaml",
      "/opt/stacks/shop/compose.prod.yaml",
    ]);
    expect(app.compose?.dependsOn).toEqual(["db", "cache"]);
    expect(app.compose?.version).toBe("2.29.1");
    const db = toContainerInfo(raw("shop-db-1"));
    expect(db).toMatchObject({ database: "postgres", health: "healthy", restartPolicy: "unless-stopped" });
    expect(toContainerInfo(raw("shop-cache-1")).database).toBe("redis");
    expect(app.database).toBeUndefined();
  });
});

test.each<[string | undefined, string[]]>([
  ["db:service_started:false,cache:service_healthy:true", ["db", "cache"]],
  ["", []],
  [undefined, []],
])("parseDependsOnLabel(%p) → %p", (label, services) => {
  expect(parseDependsOnLabel(label)).toEqual(services);
});

test.each<[string, string | undefined]>([
  ["postgres:16", "postgres"],
  ["docker.io/library/postgres@sha256:1", "postgres"],
  ["postgis/postgis:16-3.4", "postgres"],
  ["mysql:8", "mysql"],
  ["percona/percona-server:8.0", "mysql"],
  ["mariadb:11", "mariadb"],
  ["lscr.io/linuxserver/mariadb", "mariadb"],
  ["mongo:7", "mongodb"],
  ["bitnami/mongodb:7.0", "mongodb"],
  ["redis:7-alpine", "redis"],
  ["nginx:1.27", undefined],
  ["myredisgui:1", undefined],
  ["ghcr.io/example/postgresql-exporter:1", undefined],
])("guessDatabase(%p) → %p", (image, engine) => {
  expect(guessDatabase(image)).toBe(engine);
});

test("parseEnv keeps '=' inside values and bare keys", () => {
  expect(parseEnv(["A=1", "B=x=y", "C"])).toEqual({ A: "1", B: "x=y", C: "" });
});
