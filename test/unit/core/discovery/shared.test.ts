import { expect, test } from "bun:test";
import type { MountInfo, Unit } from "../../../../src/core/discovery/model.ts";
import { markShared } from "../../../../src/core/discovery/shared.ts";

const container = (name: string, running: boolean, mounts: MountInfo[]) => ({ name, running, mounts });
const vol = (volumeName: string, readOnly = false): MountInfo => ({
  type: "volume",
  volumeName,
  source: `/var/lib/docker/volumes/${volumeName}/_data`,
  destination: "/data",
  readOnly,
});
const bind = (source: string, readOnly = false): MountInfo => ({
  type: "bind",
  source,
  destination: "/b",
  readOnly,
});
const unit = (name: string, containers: ReturnType<typeof container>[], volumes: string[], binds: string[]) =>
  ({
    name,
    containers,
    volumes: volumes.map((v) => ({ name: v, usedBy: [] })),
    bindMounts: binds.map((source) => ({ source, targets: [], readOnly: false, kind: "directory" })),
  }) as unknown as Unit;

test("data a running container of another unit writes is marked; read-only, stopped or own users are not", () => {
  const app = unit(
    "app",
    [container("app-1", true, [vol("shared"), bind("/srv/app")])],
    ["shared"],
    ["/srv/app"],
  );
  const units = [
    app,
    unit("worker", [container("worker-1", true, [vol("shared"), bind("/srv/app/uploads")])], ["shared"], []),
    unit("viewer", [container("viewer-1", true, [vol("shared", true)])], [], []),
    unit("old", [container("old-1", false, [bind("/srv/app")])], [], []),
    unit("root", [container("root-1", true, [bind("/")])], [], []),
  ];
  markShared(units);
  expect(app.volumes[0]?.writtenByOthers).toEqual(["worker-1 (unit worker)"]);
  expect(app.bindMounts[0]?.writtenByOthers).toEqual(["worker-1 (unit worker)"]);
  expect(units[1]?.volumes[0]?.writtenByOthers).toEqual(["app-1 (unit app)"]);
});

test("a running container left out of a unit marks what it writes, its own unit's data too", () => {
  const app = unit("app", [container("app-1", true, [vol("data")])], ["data"], ["/srv/app"]);
  app.skippedContainers = [
    { ...container("app-run-1", true, [vol("data"), bind("/srv/app/tmp")]), reason: "one-off" },
    { ...container("app-old", false, [vol("data")]), reason: "label kopi-docka.exclude=true" },
  ];
  markShared([app]);
  expect(app.volumes[0]?.writtenByOthers).toEqual(["app-run-1 (left out of unit app: one-off)"]);
  expect(app.bindMounts[0]?.writtenByOthers).toEqual(["app-run-1 (left out of unit app: one-off)"]);
});
