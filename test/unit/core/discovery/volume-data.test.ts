import { describe, expect, test } from "bun:test";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import type { RunRecord } from "../../../../src/core/backup/result.ts";
import type { UnitDraft } from "../../../../src/core/discovery/group.ts";
import { unitResources } from "../../../../src/core/discovery/resources.ts";
import { volumeData } from "../../../../src/core/discovery/volume-data.ts";
import type { VolumeInspect } from "../../../../src/core/docker/schemas.ts";
import { renderRecord } from "../../../../src/ui/backup-report.ts";
import { renderDiscovery } from "../../../../src/ui/discovery-report.ts";
import { config, container, discovery, planOpts, stackUnit } from "../backup/fixtures.ts";

// Issue 14: Docker unmounts a `local` volume with driver options when its last container stops, so a
// cold snapshot of its mountpoint is an empty directory that looks like a successful backup.
const mp = (n: string) => `/var/lib/docker/volumes/${n}/_data`;
const backupCfg = config().backup;

describe("where a volume's data is while its containers are stopped", () => {
  test.each([
    [{}, { kind: "mountpoint", path: mp("v") }],
    [
      { type: "none", o: "bind", device: "/srv/data/" },
      { kind: "device", path: "/srv/data" },
    ],
    [
      { o: "rbind,ro", device: "//srv//x" },
      { kind: "device", path: "/srv/x" },
    ],
    [{ type: "nfs", o: "addr=10.0.0.1,rw", device: ":/export" }, { kind: "not_protected" }],
    [{ type: "cifs", o: "username=u,password=p", device: "//nas/share" }, { kind: "not_protected" }],
    [{ type: "ext4", device: "/dev/sdb1" }, { kind: "not_protected" }],
    [{ type: "tmpfs", device: "tmpfs", o: "size=10m" }, { kind: "not_protected" }],
    [{ type: "none", o: "bind", device: "relative/dir" }, { kind: "not_protected" }],
    [{ type: "none", o: "bind", device: "/etc" }, { kind: "not_protected" }],
  ])("local %j", (options, want) => {
    const got = volumeData({ driver: "local", options, mountpoint: mp("v") }, backupCfg);
    expect(got).toMatchObject(want);
    if (got.kind === "not_protected") expect(got.reason).not.toContain("password=p");
  });

  test("another driver is never read from a mountpoint", () => {
    const got = volumeData({ driver: "rexray/ebs", options: {}, mountpoint: mp("v") });
    expect(got).toMatchObject({ kind: "not_protected", reason: expect.stringContaining('"rexray/ebs"') });
  });
});

describe("discovery, plan, list and the run summary", () => {
  const inspect = (name: string, over: Partial<VolumeInspect> = {}): VolumeInspect => ({
    Name: name,
    Driver: "local",
    Options: {},
    Labels: {},
    Mountpoint: mp(name),
    Scope: "local",
    ...over,
  });
  const volumes = new Map([
    ["plain", inspect("plain")],
    ["bound", inspect("bound", { Options: { type: "none", o: "bind", device: "/srv/bound" } })],
    ["nfs", inspect("nfs", { Options: { type: "nfs", o: "addr=127.0.0.1", device: ":/x" } })],
  ]);
  const mount = (name: string) => ({
    type: "volume" as const,
    source: mp(name),
    destination: `/${name}`,
    readOnly: false,
    volumeName: name,
  });
  const draft = {
    name: "app",
    containers: [container("app", { mounts: [mount("plain"), mount("bound"), mount("nfs")] })],
    excludeVolumes: [],
  } as unknown as UnitDraft;
  const res = unitResources(draft, { volumes, networks: new Map(), kindOf: () => "directory" }, backupCfg);

  test("the bind volume reads its device; the nfs volume is kept for the recipe but not protected", () => {
    expect(res.volumes.map((v) => [v.name, v.dataPath, v.notProtected !== undefined])).toEqual([
      ["bound", "/srv/bound", false],
      ["nfs", undefined, true],
      ["plain", undefined, false],
    ]);
    expect(res.skipped).toEqual([expect.objectContaining({ kind: "volume", id: "nfs", notProtected: true })]);
  });

  const unit = { ...stackUnit("app"), volumes: res.volumes, skipped: res.skipped, bindMounts: [] };
  const plan = planBackup(config(), discovery(unit), new Date("2026-01-01T00:00:00Z"), planOpts);

  test("the plan snapshots the device directory and never the unmounted nfs mountpoint", () => {
    const vols = plan.units[0]?.sources.filter((s) => s.type === "volume") ?? [];
    expect(vols.map((s) => [s.label, s.path])).toEqual([
      ["bound", "/srv/bound"],
      ["plain", mp("plain")],
    ]);
    expect(plan.units[0]?.skipped).toContainEqual(
      expect.objectContaining({
        id: "nfs",
        notProtected: true,
        reason: expect.stringContaining("NOT PROTECTED"),
      }),
    );
  });

  test("list says NOT PROTECTED for the unit and the volume, and where a bind volume is read", () => {
    const text = renderDiscovery(discovery(unit));
    expect(text).toContain("1 NOT PROTECTED");
    expect(text).toMatch(/volume +nfs \(NOT PROTECTED\)/);
    expect(text).toMatch(/volume +bound \(bind of \/srv\/bound\)/);
  });

  test("the run summary names what was not backed up", () => {
    const record = {
      units: [
        {
          name: "app",
          status: "ok",
          sources: [],
          errors: [],
          durationMs: 1,
          notProtected: ["volume nfs: NOT PROTECTED: type=nfs: …"],
        },
      ],
    } as unknown as RunRecord;
    expect(renderRecord(record)).toContain("app: volume nfs: NOT PROTECTED");
  });
});
