import { describe, expect, test } from "bun:test";
import { composeOverride } from "../../../../src/core/restore/compose-override.ts";
import type { CopyObjects } from "../../../../src/core/restore/copy.ts";
import { recipe } from "./fixtures.ts";

/** Binds pinned as `at` says; no anonymous volume restored. */
const binds = (at: (s: string) => string | undefined) => ({ bind: at, anonymous: () => undefined });

const copy: CopyObjects = {
  renamed: [
    { kind: "volume", key: "data", from: "app_data", to: "copy_data", external: false },
    { kind: "network", key: "proxy", from: "proxy", to: "copy_proxy", external: true },
  ],
  volumes: { data: { name: "copy_data", labels: ["a=b"] } },
  networks: { proxy: { external: true, name: "copy_proxy" } },
  problems: [],
};

describe("composeOverride of a copy", () => {
  test("no bind: the override still gives the copy its own volumes and networks, each entry whole", () => {
    const o = composeOverride(
      recipe(),
      "/opt/stacks/copy",
      binds(() => undefined),
      { version: "3.5", networks: {} },
      [],
      copy,
    );
    expect(o?.binds).toEqual([]);
    expect(o?.renamed).toEqual(copy.renamed);
    expect(o?.content).toBe(
      "# Written by kopi-docka restore: mounts each bind mount from where its data was restored.\n" +
        "# The copy's own volumes and networks where the compose files name the original's.\n" +
        'version: "3.5"\n' +
        "volumes:\n" +
        '  "data": {"name": "copy_data", "labels": ["a=b"]}\n' +
        "networks:\n" +
        '  "proxy": {"external": true, "name": "copy_proxy"}\n',
    );
    expect(
      composeOverride(
        recipe(),
        "/opt/stacks/copy",
        binds(() => undefined),
        undefined,
        [],
      ),
    ).toBeUndefined();
  });

  test("whatever an entry holds, it reads back as the same value", () => {
    const odd = {
      'we"ird\nkey': {
        name: "copy_x",
        driver_opts: { o: 'a: b, "c"', n: 3, t: true, z: null },
        l: [1, "x: y"],
      },
    };
    const o = composeOverride(
      recipe(),
      "/d",
      binds(() => undefined),
      undefined,
      [],
      {
        ...copy,
        volumes: odd,
        networks: {},
      },
    );
    expect(Bun.YAML.parse(o?.content ?? "")).toEqual({ volumes: odd });
  });

  test("binds and the copy's own objects in one file", () => {
    const r = recipe();
    r.inspects.shop_db_1 = {
      ...r.inspects.shop_db_1,
      Mounts: [{ Type: "bind", Source: "/srv/shop/up", Destination: "/up", RW: false }],
    };
    const o = composeOverride(
      r,
      "/opt/stacks/copy",
      binds(() => "/opt/stacks/copy/up"),
      undefined,
      [],
      copy,
    );
    expect(Bun.YAML.parse(o?.content ?? "")).toEqual({
      services: { db: { volumes: ["/opt/stacks/copy/up:/up:ro"] } },
      volumes: copy.volumes,
      networks: copy.networks,
    });
  });

  test("a `$` in a bind path is compose's `$$`, never a variable", () => {
    const r = recipe();
    r.inspects.shop_db_1 = {
      ...r.inspects.shop_db_1,
      Mounts: [{ Type: "bind", Source: "/srv/a$b", Destination: "/x", RW: true }],
    };
    const o = composeOverride(
      r,
      "/opt/stacks/copy",
      binds((s) => `/opt/stacks/copy/binds${s}`),
      undefined,
      [],
    );
    expect(o?.content).toContain('      - "/opt/stacks/copy/binds/srv/a$$b:/x"\n');
  });
});
