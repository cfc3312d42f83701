import { expect, test } from "bun:test";
import { manualSteps, pickDaemonConfig } from "../../../../src/core/daemon-config/show.ts";
import type { SnapshotManifest } from "../../../../src/core/kopia/parse.ts";
import { managedPoints } from "../../../../src/core/restore-points/groups.ts";

const snap = (
  id: string,
  run: string,
  type: string,
  o: { host?: string; runId?: string } = {},
): SnapshotManifest => ({
  id,
  source: { host: o.host ?? "h", userName: "kopi-docka", path: `/${type}` },
  startTime: `2026-01-0${run.slice(1)}T00:00:00Z`,
  tags: {
    "tag:unit": "shop",
    "tag:backup_id": `${run}-00`,
    "tag:run_id": o.runId ?? run,
    "tag:type": type,
    "tag:timestamp": `2026-01-0${run.slice(1)}T00:00:00Z`,
  },
});

test("the newest point of this host with a docker_config snapshot; --run picks that run", () => {
  const points = managedPoints([
    snap("a1", "r1", "docker_config"),
    snap("a2", "r2", "recipe"),
    snap("a3", "r3", "docker_config", { host: "other" }),
  ]);
  expect(pickDaemonConfig(points, { host: "h" }).snapshot.id).toBe("a1");
  expect(pickDaemonConfig(points, { host: "h", run: "r3" }).snapshot.id).toBe("a3");
  expect(() => pickDaemonConfig(points, { host: "h", run: "r2" })).toThrow(
    "run r2 has no docker daemon config snapshot",
  );
  expect(() => pickDaemonConfig([], { host: "h" })).toThrow(expect.objectContaining({ code: "not_found" }));
});

test("a run id that could be a shell word never becomes a point (its id would be printed in a command)", () => {
  expect(managedPoints([snap("a1", "r1", "docker_config", { runId: "x;rm -rf /" })])).toEqual([]);
});

test("manual steps: restore via the passthrough, diff and copy what is there, restart last", () => {
  expect(manualSteps("abc", "R", [{ path: "daemon.json" }])).toEqual([
    "kopi-docka kopia -- snapshot restore abc /root/kopi-docka-docker-config-R   # the saved files, unredacted",
    "diff /etc/docker/daemon.json /root/kopi-docka-docker-config-R/daemon.json   # what would change",
    "cp /root/kopi-docka-docker-config-R/daemon.json /etc/docker/daemon.json",
    "systemctl restart docker   # stops every container not under live-restore; do it in a quiet moment",
    "rm -r /root/kopi-docka-docker-config-R",
  ]);
  const withDropIn = manualSteps("abc", "R", [{ path: "docker.service.d/x.conf" }]);
  expect(withDropIn).toContain("systemctl daemon-reload");
  expect(withDropIn.join("\n")).not.toContain("daemon.json");
});
