import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ContentContext, refuseLinkPlanted, restoreBind } from "../../../../src/core/restore/content.ts";

// The plan checks every path for links before anything is written; a bind nested in another comes back
// after it, and the outer one's restored data may put `b -> /etc` on its way.
describe("a link planted by data restored earlier in the same run", () => {
  const tmp = mkdtempSync(join(tmpdir(), "kd-planted-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const outer = join(tmp, "srv", "a");
  const elsewhere = join(tmp, "etc");
  mkdirSync(outer, { recursive: true });
  mkdirSync(elsewhere);
  symlinkSync(elsewhere, join(outer, "b"));

  test("a path below it is refused; a path it did not restore, or the restored path itself, is not", () => {
    expect(() => refuseLinkPlanted("bind /srv/a/b/c", join(outer, "b", "c"), [outer])).toThrow(
      `${join(outer, "b")} is a symlink to ${elsewhere}, restored with ${outer} just now: not written through`,
    );
    expect(() => refuseLinkPlanted("x", join(outer, "b", "c"), [])).not.toThrow();
    expect(() => refuseLinkPlanted("x", outer, [outer])).not.toThrow();
  });

  test("restoreBind under it refuses before kopia is asked for anything, and writes nothing", async () => {
    const c = {
      kopia: new Proxy({}, { get: () => () => Promise.reject(new Error("kopia was called")) }),
      log: { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} },
    } as unknown as ContentContext;
    const step = {
      from: "/srv/a/b/data",
      path: join(outer, "b", "data"),
      snapshotId: "k1",
      sizeBytes: 1,
      files: 1,
      action: "create" as const,
      kind: "directory" as const,
    };
    await expect(restoreBind(c, step, [outer])).rejects.toThrow("not written through");
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});
