import { describe, expect, test } from "bun:test";
import { composeProjectOf, renamer } from "../../../../src/core/restore/names.ts";
import { recipe } from "./fixtures.ts";

const P = "com.docker.compose.project";
const V = "com.docker.compose.volume";
const HASH = "com.docker.compose.config-hash";

describe("renamer", () => {
  test("a copy keeps the key of its own project's objects; another project's keep their full name", () => {
    const n = renamer("copy", "/opt/stacks/copy", undefined, "shop");
    expect(n.volume("shop_data", { [P]: "shop", [V]: "data" })).toBe("copy_data");
    expect(n.volume("traefik_data", { [P]: "traefik", [V]: "data" })).toBe("copy_traefik_data");
    expect(n.volume("media", {})).toBe("copy_media");
    // A standalone unit has no project: any key carries over, as before.
    expect(renamer("copy", "/opt/stacks/copy").volume("x_data", { [P]: "x", [V]: "data" })).toBe("copy_data");
  });

  test("a copy's labels: its own project, and no hash of the original's config", () => {
    const n = renamer("copy", "/opt/stacks/copy");
    expect(n.labels({ [P]: "shop", [V]: "data", [HASH]: "abc", other: "x" })).toEqual({
      [P]: "copy",
      [V]: "data",
      other: "x",
    });
    expect(renamer(undefined, "/srv/shop").labels({ [P]: "shop", [HASH]: "abc" })).toEqual({
      [P]: "shop",
      [HASH]: "abc",
    });
  });

  test("a bind volume's device moves with the copy like a bind; other options and in place stay", () => {
    const n = renamer("copy", "/opt/stacks/copy", "/srv/shop");
    const bind = { type: "none", o: "bind", device: "/srv/files" };
    expect(n.volumeOptions(bind)).toEqual({ ...bind, device: "/opt/stacks/copy/binds/srv/files" });
    expect(n.volumeOptions({ ...bind, o: "rbind,ro", device: "/srv/shop/db" }).device).toBe(
      "/opt/stacks/copy/db",
    );
    const nfs = { type: "nfs", o: "addr=10.0.0.5", device: ":/export" };
    expect(n.volumeOptions(nfs)).toEqual(nfs);
    expect(renamer(undefined, "/srv/shop").volumeOptions(bind)).toEqual(bind);
  });

  test("composeProjectOf: the project label of the unit's containers, else the unit", () => {
    expect(composeProjectOf(recipe())).toBe("shop");
    const r = recipe({ unit: "other" });
    r.inspects = {};
    expect(composeProjectOf(r)).toBe("other");
    expect(composeProjectOf(recipe({ type: "standalone" }))).toBeUndefined();
  });
});
