import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { SnapshotManifestSchema, snapshotTags } from "../../../../src/core/kopia/parse.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { readRecipe } from "../../../../src/core/restore/recipe.ts";
import { REDACTED } from "../../../../src/core/snapshot/redact.ts";
import { BACKUP_FORMAT, logicalSourcePath, type SnapshotTags } from "../../../../src/core/snapshot/tags.ts";

/**
 * Points written by kopi-docka 0.1.0, captured from a real backup of a compose stack (one service,
 * a volume, a relative bind, a custom network): `kopia snapshot list --all --json` and the restored
 * recipe and networks snapshots. Never regenerate these: a new format gets a new directory beside them.
 */
const golden = join(import.meta.dir, "..", "..", "..", "fixtures", "snapshot", "v0.1.0");
const manifests = z
  .array(SnapshotManifestSchema)
  .parse(JSON.parse(readFileSync(join(golden, "manifests.json"), "utf8")));

describe("restore reads points written by 0.1.0", () => {
  test("tags group into one complete point with every snapshot in place", () => {
    const { points, undoPoints } = groupRestorePoints(manifests);
    expect(undoPoints).toEqual([]);
    expect(points).toHaveLength(1);
    const p = points[0];
    expect(p).toMatchObject({
      key: "kdgolden@20261201T144010Z-fae460-01",
      unit: "kdgolden",
      host: "kd-test-host",
      runId: "20261201T144010Z-fae460",
      timestamp: "2026-12-01T14:40:11.438Z",
      scope: "standard",
      complete: true,
      problems: [],
    });
    expect(p?.recipe?.id).toBe("f386bf6d37359ae72713c59f2dee9f58");
    expect(p?.networks?.id).toBe("ca9da7dde19b6eafd78ffd08689ac7b5");
    expect(p?.volumes.map((v) => v.name)).toEqual(["kdgolden_dbdata"]);
    expect(p?.binds).toMatchObject([
      { source: "/tmp/secrets-cap/proj/uploads", destination: "/srv/uploads" },
    ]);
  });

  test.each(manifests.map((m) => [snapshotTags(m).type, m] as const))(
    "%s: its format is this version's and its source path is the one the tags give",
    (_type, m) => {
      const tags = snapshotTags(m) as unknown as SnapshotTags;
      expect(tags.backup_format).toBe(BACKUP_FORMAT);
      expect(m.source).toMatchObject({ userName: "kopi-docka", path: logicalSourcePath(tags) });
    },
  );

  test("the recipe and networks snapshots read back whole", () => {
    const r = readRecipe(join(golden, "recipe"), join(golden, "networks"));
    expect(r.unit).toMatchObject({
      unit: "kdgolden",
      type: "compose",
      workingDir: "/tmp/secrets-cap/proj",
      composeFiles: [{ labelPath: "docker-compose.yml", stored: "compose/01-docker-compose.yml" }],
      containers: [{ name: "kdgolden_db_1", service: "db", image: "kopi-docka-test/busybox:1" }],
      volumes: [{ name: "kdgolden_dbdata", driver: "local", options: {}, usedBy: ["kdgolden_db_1"] }],
      bindMounts: [{ source: "/tmp/secrets-cap/proj/uploads", kind: "directory" }],
      networks: ["kdgolden_back"],
    });
    expect(r.files.map((f) => f.stored)).toEqual(["compose/01-docker-compose.yml", "project/.env"]);
    // 0.1.0 recorded no file modes or owners: its files are written as they always were.
    expect(r.unit.fileAttributes).toEqual([]);
    expect(r.files.some((f) => f.attributes)).toBe(false);
    expect(Object.keys(r.inspects)).toEqual(["kdgolden_db_1"]);
    const env = (r.inspects.kdgolden_db_1?.Config as { Env?: string[] } | undefined)?.Env;
    expect(env).toContain(`DB_PASSWORD=${REDACTED}`);
    expect(env).toContain("TZ=UTC");
    expect(r.networks.map((n) => n.Name)).toEqual(["kdgolden_back"]);
    expect(r.coverage?.map((c) => `${c.kind}:${c.status}`)).toEqual([
      "recipe:protected",
      "networks:protected",
      "volume:protected",
      "bind:protected",
    ]);
  });
});
