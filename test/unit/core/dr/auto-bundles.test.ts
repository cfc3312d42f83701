import { expect, test } from "bun:test";
import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import { autoBundles, bundleFingerprint, drFreshness } from "../../../../src/core/dr/auto.ts";
import { tempDir } from "../../../helpers/env.ts";
import { bundleInput } from "./fixtures.ts";

// Several hosts may export into one directory (the config template suggests a mount off this disk):
// host `web`'s bundles are only its own, never `web-prod`'s, whose names start the same way.
test("a host's bundles are matched by their whole name, never by a prefix another host shares", () => {
  const dir = tempDir("kd-dr-auto-");
  const names = [
    "kopi-docka-dr-web-20261201T010000Z.age",
    "kopi-docka-dr-web-20261202T010000Z.age",
    "kopi-docka-dr-web-20261202T010000Z.age.txt",
    "kopi-docka-dr-web-prod-20261130T010000Z.age",
    "kopi-docka-dr-web-prod-20261203T010000Z.age",
    "kopi-docka-dr-web.x-20261203T010000Z.age",
  ];
  for (const n of names) writeFileSync(join(dir.path, n), "x");
  expect(autoBundles(dir.path, "web").map((p) => p.slice(dir.path.length + 1))).toEqual([
    "kopi-docka-dr-web-20261201T010000Z.age",
    "kopi-docka-dr-web-20261202T010000Z.age",
  ]);
  expect(autoBundles(dir.path, "web-prod")).toHaveLength(2);
  // A dot in a host name is a dot, not "any character".
  expect(autoBundles(dir.path, "web.x")).toHaveLength(1);

  // doctor: another host's newer bundle does not make this host's look fresh.
  const config = ConfigSchema.parse({
    dr: { export_after_backup: dir.path, passphrase_file: join(dir.path, "pass") },
  });
  const cfg = join(dir.path, "config.toml");
  writeFileSync(cfg, "");
  const old = new Date("2026-01-01T00:00:00Z");
  for (const n of names.filter((x) => x.startsWith("kopi-docka-dr-web-2026")))
    utimesSync(join(dir.path, n), old, old);
  const fresh = drFreshness(config, { configPath: cfg, passwordFile: join(dir.path, "none") }, "web");
  expect(fresh?.status).toBe("warn");
  expect(fresh?.detail).toContain("kopi-docka-dr-web-20261202T010000Z.age is older than");
  dir.remove();
});

test("the fingerprint changes when a unit is added (recover.sh --restore-all lists the bundle's), not with a new point", () => {
  const unit = (name: string, point: string) => ({
    unit: name,
    host: "web",
    point,
    backupId: `${point}-${name}`,
    timestamp: "2026-12-01T00:00:00Z",
    volumes: [],
    sizeBytes: 1,
  });
  const input = (units: ReturnType<typeof unit>[]) => bundleInput({ host: "web", units });
  const before = bundleFingerprint(input([unit("shop", "r1")]));
  expect(bundleFingerprint(input([unit("shop", "r2")]))).toBe(before);
  expect(bundleFingerprint(input([unit("shop", "r2"), unit("blog", "r2")]))).not.toBe(before);
});
