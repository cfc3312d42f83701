import { describe, expect, test } from "bun:test";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { renderRestorePlan } from "../../../../src/ui/restore-report.ts";
import { emptyState, manifest, recipe, request, unitBackup } from "./fixtures.ts";

const base = {
  unit: "shop",
  backup_id: "r1-shop",
  run_id: "r1",
  backup_scope: "standard",
  timestamp: "2026-01-01T10:00:00Z",
};
const protectedItem = (kind: string, id: string) => ({ kind, id, status: "protected", detail: "" });

describe("planRestore: what the point lacks, single-file binds, standalone --start", () => {
  test("a volume and a bind the recipe's coverage protected but the point has no snapshot of are listed", () => {
    const points = groupRestorePoints(unitBackup("shop", "r1", base.timestamp, ["shop_db"]));
    const r = recipe();
    r.coverage = [
      protectedItem("volume", "shop_db"),
      protectedItem("volume", "shop_cache"),
      protectedItem("bind", "/srv/shop/conf"),
      { kind: "bind", id: "app:/proc", status: "not_protected", detail: "host internal" },
    ];
    const plan = planRestore(request(), points, emptyState({ recipe: r }));
    expect(plan.missing).toEqual(["volume shop_cache", "bind /srv/shop/conf"]);
    expect(renderRestorePlan(plan)).toContain(
      "  missing    volume shop_cache: the backup protected it, this point has no snapshot of it",
    );
  });

  test("without coverage.json, unit.json's volumes and file/directory binds are the reference", () => {
    const points = groupRestorePoints(unitBackup("shop", "r1", base.timestamp, ["shop_db"]));
    const r = recipe({
      bindMounts: [
        { source: "/srv/a", targets: [], kind: "directory" },
        { source: "/gone", targets: [], kind: "missing" },
      ],
    });
    expect(planRestore(request(), points, emptyState({ recipe: r })).missing).toEqual(["bind /srv/a"]);
  });

  test("in place: containers mounting a restored bind, a directory under it, or one above it (not /) are stopped", () => {
    const points = groupRestorePoints([
      ...unitBackup("shop", "r1", base.timestamp, []),
      manifest({ ...base, type: "bind", bind_source: "/srv/shop/data" }),
    ]);
    const r = recipe({
      volumes: [],
      bindMounts: [{ source: "/srv/shop/data", targets: [], kind: "directory" }],
    });
    const c = (id: string, bind: string, running = true) => ({
      id,
      name: id,
      running,
      volumes: [],
      binds: [bind],
    });
    const containers = [
      c("same", "/srv/shop/data"),
      c("under", "/srv/shop/data/uploads"),
      c("above", "/srv/shop"),
      c("root", "/"),
      c("sibling", "/srv/shop/data2"),
      c("stopped", "/srv/shop/data/x", false),
    ];
    const plan = planRestore(
      request({ what: "binds" }),
      points,
      emptyState({ recipe: r, containers, paths: { "/srv/shop/data": "directory" } }),
    );
    expect(plan.binds.map((b) => b.path)).toEqual(["/srv/shop/data"]);
    // In stop order: the reverse of the start order, which is by name when nothing depends on anything.
    expect(plan.stop.map((x) => x.name)).toEqual(["under", "same", "above"]);
  });

  test("a single-file bind mount is planned as a file; an existing file gets an undo point", () => {
    const points = groupRestorePoints([
      ...unitBackup("shop", "r1", base.timestamp, []),
      manifest({ ...base, type: "bind", bind_source: "/srv/shop/app.conf" }),
    ]);
    const r = recipe({
      volumes: [],
      bindMounts: [{ source: "/srv/shop/app.conf", targets: [], kind: "file" }],
    });
    const plan = planRestore(
      request({ what: "binds" }),
      points,
      emptyState({ recipe: r, paths: { "/srv/shop/app.conf": "file" } }),
    );
    expect(plan.binds).toMatchObject([{ path: "/srv/shop/app.conf", kind: "file", action: "overwrite" }]);
    expect(plan.undo).toEqual([{ kind: "bind", name: "/srv/shop/app.conf", path: "/srv/shop/app.conf" }]);
  });

  test("standalone --start with a redacted secret: refused, naming the variable and --env-file", () => {
    const points = groupRestorePoints(unitBackup("shop", "r1", base.timestamp, []));
    const r = recipe({
      type: "standalone",
      volumes: [],
      networks: [],
      containers: [{ name: "web", image: "busybox" }],
    });
    r.inspects = { web: { Name: "/web", Config: { Image: "busybox", Env: ["TOKEN=***REDACTED***"] } } };
    const refused = planRestore(request({ start: true }), points, emptyState({ recipe: r }));
    expect(refused.refusals).toEqual([
      "web: TOKEN was redacted in the backup; pass --env-file FILE with TOKEN=<value> lines, or start it by hand",
    ]);
    expect(refused.start).toEqual({ kind: "run", containers: [] });
    const supplied = planRestore(
      request({ start: true, envFile: "/root/web.env" }),
      points,
      emptyState({ recipe: r, envFileKeys: ["TOKEN"] }),
    );
    expect(supplied.refusals).toEqual([]);
    expect(supplied.warnings).toEqual([]);
    const open = planRestore(
      request({ start: true, envFile: "/root/web.env" }),
      points,
      emptyState({ recipe: r, envFileKeys: ["TOKEN"], envFileOpen: true }),
    );
    expect(open.warnings).toEqual([
      "/root/web.env holds secrets but others may read it: chmod 600 /root/web.env",
    ]);
    expect(supplied.start).toEqual({
      kind: "run",
      containers: [
        {
          name: "web",
          argv: ["--name", "web", "--env-file", "/root/web.env", "busybox"],
          env: [],
        },
      ],
    });
  });
});

describe("planRestore: volumes whose driver options hold a secret", () => {
  const points = groupRestorePoints(unitBackup("shop", "r1", base.timestamp, ["shop_db"]));
  const nas = (options: Record<string, string>) =>
    recipe({ volumes: [{ name: "shop_db", driver: "local", options, labels: {}, usedBy: [] }] });
  const refusal =
    "volume shop_db: its driver options hold a secret, which kopi-docka never puts on a command line; " +
    "create it yourself with the options type, o (driver local) kept off command lines too: from a compose " +
    "file's driver_opts (docker-compose up --no-start), or through the docker socket with the request body " +
    "in a file (curl --unix-socket /var/run/docker.sock -H 'Content-Type: application/json' -d @volume.json " +
    "http://localhost/volumes/create); then restore again";

  test.each([
    ["redacted by the backup", { type: "cifs", o: "addr=nas,username=u,password=***REDACTED***" }],
    [
      "in plain text (a recipe from before options were redacted)",
      { type: "cifs", o: "addr=nas,password=pw" },
    ],
  ])("to create, %s: refused, nothing changed, and the way out named", (_why, options) => {
    const plan = planRestore(request(), points, emptyState({ recipe: nas(options) }));
    expect(plan.refusals).toEqual([refusal]);
    expect(renderRestorePlan(plan)).toContain(`  REFUSED: ${refusal}`);
  });

  test("an existing volume is restored into: its options are not needed", () => {
    const state = emptyState({
      recipe: nas({ type: "cifs", o: "addr=nas,password=***REDACTED***" }),
      volumes: { shop_db: { mountpoint: "/var/lib/docker/volumes/shop_db/_data", labels: {} } },
    });
    expect(planRestore(request(), points, state).refusals).toEqual([]);
  });

  test("options without a secret are recreated as before", () => {
    const plan = planRestore(request(), points, emptyState({ recipe: nas({ o: "uid=1000,gid=1000" }) }));
    expect(plan.refusals).toEqual([]);
    expect(plan.volumes[0]).toMatchObject({ action: "create", options: { o: "uid=1000,gid=1000" } });
  });
});

describe("planRestore: networks whose labels or driver options hold a secret", () => {
  const points = groupRestorePoints(unitBackup("shop", "r1", base.timestamp, ["shop_db"]));
  const withNetwork = (extra: { Labels?: Record<string, string>; Options?: Record<string, string> }) => {
    const r = recipe();
    const [n] = r.networks;
    if (n) r.networks = [{ ...n, ...extra, Labels: { ...n.Labels, ...extra.Labels } }];
    return r;
  };

  test.each([
    ["a label redacted by the backup", { Labels: { "acme.api-token": "***REDACTED***" } }, "labels"],
    ["an option in plain text (an older recipe)", { Options: { "plugin.password": "s3cret" } }, "options"],
  ])("to create, %s: refused with the way out", (_why, extra, what) => {
    const plan = planRestore(request(), points, emptyState({ recipe: withNetwork(extra) }));
    expect(plan.refusals).toHaveLength(1);
    expect(plan.refusals[0]).toStartWith(
      `network shop_default: its ${what} hold a secret, which kopi-docka never puts on a command line; create it yourself`,
    );
    expect(JSON.stringify(plan.refusals)).not.toContain("s3cret");
  });

  test("one that exists is kept: nothing to create, nothing refused", () => {
    const state = emptyState({
      recipe: withNetwork({ Options: { "plugin.password": "***REDACTED***" } }),
      networks: { shop_default: { driver: "bridge", subnets: ["172.30.0.0/16"] } },
    });
    expect(planRestore(request(), points, state).refusals).toEqual([]);
  });
});
