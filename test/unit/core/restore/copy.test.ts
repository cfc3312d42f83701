import { describe, expect, test } from "bun:test";
import { composeFacts } from "../../../../src/core/restore/compose-facts.ts";
import { copyObjects, isolateCopy } from "../../../../src/core/restore/copy.ts";
import { copyCollisions } from "../../../../src/core/restore/copy-collisions.ts";
import { renamer } from "../../../../src/core/restore/names.ts";
import { planNetworks } from "../../../../src/core/restore/networks.ts";
import { planVolumes } from "../../../../src/core/restore/plan-steps.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import type { LoadedRecipe } from "../../../../src/core/restore/recipe.ts";
import type { CurrentState } from "../../../../src/core/restore/types.ts";
import { emptyState, manifest, recipe, request, unitBackup } from "./fixtures.ts";

const P = "com.docker.compose.project";
const V = "com.docker.compose.volume";
const N = "com.docker.compose.network";
const names = renamer("copy", "/opt/stacks/copy", "/srv/shop", "shop");

/**
 * shop as compose v2 records it: a volume named `app_data` by the file (labelled with its key), an
 * external `media`, a bind volume of /srv/files, its own network `app_net` (key back) and traefik's
 * `traefik_default`, which it joins as external.
 */
const COMPOSE = `version: "3.5"
services:
  db:
    image: postgres
    volumes: [data:/var/lib/db, media:/media, files:/files]
    networks: [back, outside]
volumes:
  data:
    name: app_data
  media:
    external: true
  files:
    driver: local
    driver_opts: { type: none, o: bind, device: /srv/files }
networks:
  back:
    name: app_net
  outside:
    external: true
    name: traefik_default
  hostnet:
    external: true
    name: host
`;

function shop(): LoadedRecipe {
  const r = recipe({
    volumes: [
      { name: "app_data", driver: "local", options: {}, labels: { [P]: "shop", [V]: "data" }, usedBy: [] },
      { name: "media", driver: "local", options: {}, labels: {}, usedBy: [] },
      {
        name: "shop_files",
        driver: "local",
        options: { type: "none", o: "bind", device: "/srv/files" },
        labels: { [P]: "shop", [V]: "files" },
        usedBy: [],
      },
    ],
    bindMounts: [
      { source: "/srv/shop/uploads", targets: [], kind: "directory" },
      { source: "/srv/shop/run", targets: [], kind: "other" },
    ],
    networks: ["app_net", "traefik_default"],
  });
  r.inspects.shop_db_1 = {
    ...r.inspects.shop_db_1,
    Mounts: [
      { Type: "bind", Source: "/srv/shop/uploads", Destination: "/uploads", RW: true },
      { Type: "bind", Source: "/srv/shop/run", Destination: "/run/app", RW: true },
      { Type: "bind", Source: "/etc/localtime", Destination: "/etc/localtime", RW: false },
    ],
  };
  r.networks = [
    { Name: "app_net", Id: "n1", Driver: "bridge", Labels: { [P]: "shop", [N]: "back" } },
    { Name: "traefik_default", Id: "n2", Driver: "bridge", Labels: { [P]: "traefik", [N]: "default" } },
  ];
  return r;
}

const base = { unit: "shop", backup_id: "r1-shop", run_id: "r1", timestamp: "2026-01-01T10:00:00Z" };
const point = (volumes = ["app_data", "media", "shop_files"]) => {
  const p = groupRestorePoints([
    ...unitBackup("shop", "r1", base.timestamp, volumes),
    manifest({ ...base, type: "bind", bind_source: "/srv/shop/uploads", bind_destination: "/uploads" }),
  ]).points[0];
  if (!p) throw new Error("no point");
  return p;
};

/** isolateCopy for a copy of shop, with the volume and network steps a plan would have. */
function isolate(
  o: { compose?: string; state?: Partial<CurrentState>; volumes?: string[]; start?: boolean } = {},
) {
  const r = shop();
  const facts = composeFacts([o.compose ?? COMPOSE]);
  const state = emptyState({ recipe: r, ...(facts ? { compose: facts } : {}), ...o.state });
  const pt = point(o.volumes);
  const req = request({ as: "copy", start: o.start ?? true });
  return isolateCopy({
    point: pt,
    recipe: r,
    state,
    names,
    volumes: planVolumes(pt, r, state, undefined, names),
    networks: planNetworks(r, state, req, names),
    start: req.start,
  });
}

describe("copyObjects: the copy's own name for each volume and network the compose files fix", () => {
  test("name:, external and a bind device: renamed to what the restore names the copy's, whole entries", () => {
    const o = copyObjects(shop(), composeFacts([COMPOSE]), names);
    expect(o.problems).toEqual([]);
    expect(o.renamed).toEqual([
      { kind: "volume", key: "data", from: "app_data", to: "copy_data", external: false },
      { kind: "volume", key: "media", from: "media", to: "copy_media", external: true },
      { kind: "network", key: "back", from: "app_net", to: "copy_back", external: false },
      // Another project's network: its key is not this unit's, the full name is kept under the copy's.
      {
        kind: "network",
        key: "outside",
        from: "traefik_default",
        to: "copy_traefik_default",
        external: true,
      },
    ]);
    expect(o.volumes).toEqual({
      data: { name: "copy_data" },
      media: { external: true, name: "copy_media" },
      files: {
        driver: "local",
        driver_opts: { type: "none", o: "bind", device: "/opt/stacks/copy/binds/srv/files" },
      },
    });
    // `host` is Docker's own network, never the original's: left alone.
    expect(Object.keys(o.networks)).toEqual(["back", "outside"]);
  });

  test("the names are the ones the restore gives the copy's volumes and networks", () => {
    const r = shop();
    const o = copyObjects(r, composeFacts([COMPOSE]), names);
    const state = emptyState({ recipe: r });
    const restored = planVolumes(point(), r, state, undefined, names);
    expect(restored.map((v) => v.name)).toEqual(["copy_data", "copy_media", "copy_files"]);
    expect(o.volumes.files?.driver_opts).toMatchObject({ device: restored[2]?.options.device });
    const made = planNetworks(r, state, request({ as: "copy" }), names).map((n) => n.name);
    expect(made).toEqual(["copy_back", "copy_traefik_default"]);
  });

  test("compose v1 labels a named volume with its name; the old `external: {name}` form becomes name + external", () => {
    const r = shop();
    r.unit.volumes[0] = {
      ...(r.unit.volumes[0] as LoadedRecipe["unit"]["volumes"][0]),
      labels: { [P]: "shop", [V]: "app_data" },
    };
    const text =
      'version: "3"\nvolumes:\n  data:\n    name: app_data\n  media:\n    external:\n      name: media\n';
    const o = copyObjects(r, composeFacts([text]), names);
    expect(o.volumes).toEqual({
      data: { name: "copy_app_data" },
      media: { external: true, name: "copy_media" },
    });
  });

  test("a name from a variable: found by compose v2's key label, else a problem", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a compose variable, as written in compose files
    const text = "volumes:\n  data:\n    name: ${STACK}_data\nnetworks:\n  back:\n    name: ${STACK}_net\n";
    const found = copyObjects(shop(), composeFacts([text]), names);
    expect(found.problems).toEqual([]);
    expect(found.renamed.map((x) => `${x.from} -> ${x.to}`)).toEqual([
      "app_data -> copy_data",
      "app_net -> copy_back",
    ]);
    const v1 = shop();
    v1.unit.volumes = [];
    v1.networks = [];
    expect(copyObjects(v1, composeFacts([text]), names).problems).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a compose variable, as written in compose files
      'volume data: its name "${STACK}_data" comes from a variable and the backup does not tell which one it was, ' +
        "so the copy would use the original's; give it a literal name in the compose file, or restore in place",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a compose variable, as written in compose files
      'network back: its name "${STACK}_net" comes from a variable and the backup does not tell which one it was, ' +
        "so the copy would use the original's; give it a literal name in the compose file, or restore in place",
    ]);
  });

  test("storage outside Docker cannot be moved: nfs, a plugin's options, a device from a variable", () => {
    const text =
      "volumes:\n  a:\n    driver_opts: { type: nfs, o: 'addr=10.0.0.5,rw', device: ':/export/a' }\n" +
      "  b:\n    driver: local-persist\n    driver_opts: { mountpoint: /data/b }\n" +
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a compose variable, as written in compose files
      "  c:\n    driver_opts: { type: none, o: bind, device: '${DIR}/c' }\n" +
      "  d:\n    driver_opts: { type: tmpfs, device: tmpfs }\n";
    const o = copyObjects(shop(), composeFacts([text]), names);
    expect(o.problems.map((p) => p.split(" keeps")[0])).toEqual(["volume a", "volume b", "volume c"]);
    expect(o.problems[0]).toContain("(driver local, type=nfs o=addr=10.0.0.5,rw device=:/export/a)");
    expect(o.volumes).toEqual({});
  });

  test("the device the backup recorded wins over the file's (a variable); a `$` in it is compose's `$$`", () => {
    const r = shop();
    const files = r.unit.volumes[2] as LoadedRecipe["unit"]["volumes"][0];
    files.options = { type: "none", o: "bind", device: "/srv/fi$les" };
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a compose variable, as written in compose files
    const text = "volumes:\n  files:\n    driver_opts: { type: none, o: bind, device: '${FILES}' }\n";
    const o = copyObjects(r, composeFacts([text]), names);
    expect(o.problems).toEqual([]);
    expect(o.volumes.files?.driver_opts).toEqual({
      type: "none",
      o: "bind",
      device: "/opt/stacks/copy/binds/srv/fi$$les",
    });
  });
});

describe("isolateCopy: binds, refusals and warnings", () => {
  test("every bind of the unit from the copy's own path, held by the point or not; the host's own as they were", () => {
    const c = isolate();
    expect(c.bindPath("/srv/shop/uploads")).toBe("/opt/stacks/copy/uploads");
    // Not backed up (a socket directory): the copy's own, never the original's.
    expect(c.bindPath("/srv/shop/run")).toBe("/opt/stacks/copy/run");
    expect(c.bindPath("/etc/localtime")).toBeUndefined();
    expect(c.warnings).toEqual([
      "bind /srv/shop/run is not in this point: the copy mounts /opt/stacks/copy/run (empty unless restored there before)",
    ]);
    expect(c.refusals).toEqual([]);
    expect(c.objects?.renamed.length).toBe(4);
  });

  test("an external volume or network the restore does not make and that does not exist: refused with --start", () => {
    const c = isolate({ volumes: ["app_data"], state: {} });
    expect(c.refusals).toEqual([
      "volume media is external (media): the copy uses its own copy_media, which does not exist and is not " +
        "restored: create it (docker volume create copy_media) or restore it too, then restore again",
    ]);
    const there = isolate({
      volumes: ["app_data"],
      state: { volumes: { copy_media: { mountpoint: "/x", labels: {} } } },
    });
    expect(there.refusals).toEqual([]);
    expect(isolate({ volumes: ["app_data"], start: false }).refusals).toEqual([]);
  });

  test("a service sharing a container by name: refused with --start, a warning without", () => {
    const compose = `${COMPOSE.split("volumes:\n  data")[0]}    volumes_from: ["container:shop_db_1:ro"]\n  side:\n    network_mode: "container:shop_db_1"\n`;
    const refused = isolate({ compose });
    expect(refused.refusals).toEqual([
      "service db: volumes_from container:shop_db_1 shares a container outside the copy (its volumes or network), " +
        "so the copy would use the original's; restore without --start, or in place",
      "service side: network_mode container:shop_db_1 shares a container outside the copy (its volumes or network), " +
        "so the copy would use the original's; restore without --start, or in place",
    ]);
    const warned = isolate({ compose, start: false });
    expect(warned.refusals).toEqual([]);
    expect(warned.warnings.filter((w) => w.startsWith("service "))).toHaveLength(2);
  });

  test("a service with no container at the backup that binds a host path: refused with --start, a warning without", () => {
    const compose = COMPOSE.replace(
      "volumes:\n  data:\n",
      "  worker:\n    image: busybox\n    volumes: [/srv/shared/uploads:/uploads, ./rel:/rel, data:/d]\n" +
        "  cron:\n    image: busybox\n    volumes: [{ type: bind, source: /etc/cron.d, target: /c }]\n" +
        "  db2:\n    image: busybox\n    volumes: [{ type: volume, source: data, target: /x }]\n" +
        "volumes:\n  data:\n",
    );
    const refused = isolate({ compose });
    expect(refused.refusals.filter((r) => r.startsWith("service "))).toEqual([
      "service worker mounts host path /srv/shared/uploads and had no container at the backup, so the copy cannot be given its own: compose would mount the original's; remove the service from the copy's compose file, or restore without --start",
      "service cron mounts host path /etc/cron.d and had no container at the backup, so the copy cannot be given its own: compose would mount the original's; remove the service from the copy's compose file, or restore without --start",
    ]);
    const warned = isolate({ compose, start: false });
    expect(warned.refusals.filter((r) => r.startsWith("service "))).toEqual([]);
    expect(warned.warnings.filter((w) => w.startsWith("service "))).toHaveLength(2);
  });

  test("the copy's volume an older restore left on the original's bind device: refused, start or not", () => {
    const state = { volumes: { copy_files: { mountpoint: "/srv/files", labels: {} } } };
    const expected =
      "volume copy_files exists and keeps its data in /srv/files, where the original's shop_files keeps its own: " +
      "remove the copy's volume (docker volume rm copy_files) and restore again";
    expect(isolate({ state }).refusals).toEqual([expected]);
    expect(isolate({ state, start: false }).refusals).toEqual([expected]);
  });

  test("compose files that cannot be read: said so", () => {
    const c = isolate({ compose: "services: [unclosed" });
    expect(c.warnings).toContain(
      "the compose files could not be read: volumes and networks they name themselves are not renamed for the copy",
    );
  });

  test("a bind with a ':' cannot be written for compose: refused with --start", () => {
    const r = shop();
    r.unit.bindMounts.push({ source: "/srv/a:b", targets: [], kind: "directory" });
    const mounts = (r.inspects.shop_db_1?.Mounts ?? []) as unknown[];
    mounts.push({ Type: "bind", Source: "/srv/a:b", Destination: "/ab", RW: true });
    const state = emptyState({ recipe: r });
    const c = isolateCopy({
      point: point(),
      recipe: r,
      state,
      names,
      volumes: [],
      networks: [],
      start: true,
    });
    expect(c.refusals).toEqual(["db: bind /srv/a:b:/ab cannot be moved for the copy (a ':' in it)"]);
  });

  test("a standalone copy: binds only, no compose objects", () => {
    const r = shop();
    r.unit.type = "standalone";
    const c = isolateCopy({
      point: point(),
      recipe: r,
      state: emptyState({ recipe: r }),
      names,
      volumes: [],
      networks: [],
      start: true,
    });
    expect(c.objects).toBeUndefined();
    expect(c.bindPath("/srv/shop/uploads")).toBe("/opt/stacks/copy/uploads");
  });
});

describe("copyCollisions: what the copy cannot start beside the original with", () => {
  const original = (running: boolean) => ({
    id: "c1",
    name: "shop_db_1",
    running,
    volumes: [],
    binds: [],
  });
  const withPorts = () => {
    const r = shop();
    r.inspects.shop_db_1 = {
      ...r.inspects.shop_db_1,
      HostConfig: {
        PortBindings: {
          "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }],
          "443/tcp": [{ HostIp: "", HostPort: "" }], // a random host port: no collision
        },
      },
    };
    return r;
  };

  test("a fixed container_name taken on this host, and one from a variable: named, refused with --start", () => {
    const compose = `services:\n  db:\n    image: x\n    container_name: pg\n  app:\n    image: x\n    container_name: \${APP_NAME}\n  web:\n    image: x\n`;
    const state = emptyState({
      recipe: shop(),
      compose: composeFacts([compose]),
      containers: [{ ...original(false), name: "pg" }],
    });
    expect(copyCollisions(shop(), state)).toEqual([
      "service db: container_name pg is taken (the original's container has it): restore without --start, change it in the copy's compose files, then start it",
      "service app: its container_name comes from a variable, so the copy's container may take the original's name; restore without --start, change it in the copy's compose files, then start it",
    ]);
    expect(
      isolate({ compose, state: { containers: [{ ...original(false), name: "pg" }] } }).refusals,
    ).toEqual(expect.arrayContaining([expect.stringContaining("container_name pg is taken")]));
    // Without --start: the files are written, the same words a warning.
    const files = isolate({
      compose,
      start: false,
      state: { containers: [{ ...original(false), name: "pg" }] },
    });
    expect(files.refusals).toEqual([]);
    expect(files.warnings).toEqual(
      expect.arrayContaining([expect.stringContaining("container_name pg is taken")]),
    );
  });

  test("a fixed host port of a running original: named; a stopped original, or a random port, is no collision", () => {
    const running = emptyState({ recipe: withPorts(), containers: [original(true)] });
    expect(copyCollisions(withPorts(), running)).toEqual([
      "service db: host port 127.0.0.1:8080/tcp is published by the original's shop_db_1, which runs: restore without --start, change it in the copy's compose files, then start it, or stop the original first",
    ]);
    // Untrusted names and addresses from the recipe are quoted, never a line of their own.
    const odd = withPorts();
    odd.unit.containers = odd.unit.containers.map((c) => ({ ...c, service: "db\nwarning: forged" }));
    odd.inspects.shop_db_1 = {
      HostConfig: { PortBindings: { "80/tcp": [{ HostIp: "1.2.3.4\nx", HostPort: "8080" }] } },
    };
    expect(copyCollisions(odd, emptyState({ recipe: odd, containers: [original(true)] }))).toEqual([
      `service "db\\nwarning: forged": host port "1.2.3.4\\nx":8080/tcp is published by the original's shop_db_1, which runs: restore without --start, change it in the copy's compose files, then start it, or stop the original first`,
    ]);
    const stopped = emptyState({ recipe: withPorts(), containers: [original(false)] });
    expect(copyCollisions(withPorts(), stopped)).toEqual([]);
  });

  test("compose facts: container_name per service, later files win, a variable is no name but its text", () => {
    const facts = composeFacts([
      "services:\n  db:\n    container_name: a\n  app:\n    container_name: b\n",
      `services:\n  db:\n    container_name: c\n  app:\n    container_name: x\${Y}\n`,
    ]);
    expect(facts?.containerNames).toEqual([
      { service: "db", name: "c" },
      { service: "app", template: "x$" + "{Y}" },
    ]);
    expect(composeFacts(["services:\n  db:\n    image: x\n"])?.containerNames).toBeUndefined();
  });
});
