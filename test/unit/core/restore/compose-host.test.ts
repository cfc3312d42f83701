import { describe, expect, test } from "bun:test";
import { composeHostUse, hostPathOf } from "../../../../src/core/restore/compose-host.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import type { CurrentState } from "../../../../src/core/restore/types.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

describe("composeHostUse: what compose up takes from the host", () => {
  test("bind sources (short and long), env files, local build contexts, secret and config files, bind volume devices", () => {
    const text = `
services:
  app:
    image: x
    volumes: [data:/data, /anon, ./up:/srv/up:ro, "~/k:/k", "\${D}/x:/x", "/etc:/hostetc"]
    env_file: [./a.env, { path: /srv/b.env }]
    build: { context: ../.., additional_contexts: { repo: "https://e.com/r.git", lib: /opt/lib } }
  web:
    image: y
    env_file: /etc/web.env
    build: github.com/me/repo
    volumes:
      - { type: bind, source: /, target: /host }
      - { type: volume, source: data, target: /d }
      - { type: tmpfs, target: /t }
secrets: { pw: { file: /root/pw }, env: { environment: PW } }
configs: { c: { file: ./c.conf } }
volumes:
  dev: { driver_opts: { type: none, o: bind, device: /etc } }
  nfs: { driver_opts: { type: nfs, o: "addr=1.2.3.4", device: ":/export" } }
`;
    const use = composeHostUse([text]);
    expect(use.unchecked).toEqual([]);
    expect(use.paths.map((p) => [p.by, p.what, p.source, p.target])).toEqual([
      ["service app", "mount", "./up", "/srv/up"],
      ["service app", "mount", "~/k", "/k"],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable, written as the file has it
      ["service app", "mount", "${D}/x", "/x"],
      ["service app", "mount", "/etc", "/hostetc"],
      ["service app", "env file", "./a.env", undefined],
      ["service app", "env file", "/srv/b.env", undefined],
      ["service app", "build context", "../..", undefined],
      ["service app", "build context", "/opt/lib", undefined],
      ["service web", "mount", "/", "/host"],
      ["service web", "env file", "/etc/web.env", undefined],
      ["secret pw", "mount", "/root/pw", undefined],
      ["config c", "mount", "./c.conf", undefined],
      ["volume dev", "volume device", "/etc", undefined],
    ]);
  });

  test("every document of a file and every file counts; a later file's volume options add to earlier ones", () => {
    const first = "services: { a: { image: x } }\n---\nservices: { b: { volumes: ['/:/host'] } }\n";
    const later = [
      "volumes: { d: { driver_opts: { o: bind } } }",
      "volumes: { d: { driver_opts: { device: /etc } } }",
    ];
    const use = composeHostUse([first, ...later]);
    expect(use.paths.map((p) => `${p.by} ${p.source}`)).toEqual(["service b /", "volume d /etc"]);
  });

  test("files it cannot judge whole: unparsable, not a mapping, include, extends.file", () => {
    expect(composeHostUse(["services: [unclosed"]).unchecked).toEqual(["a compose file does not parse"]);
    expect(composeHostUse(["just text"]).unchecked).toEqual(["a compose file is not a mapping"]);
    expect(composeHostUse(["include: [./other.conf]\n"]).unchecked[0]).toContain("`include:`");
    const ext = "services: { a: { extends: { file: ./x.conf, service: b } } }\n";
    expect(composeHostUse([ext]).unchecked[0]).toContain("service a: `extends.file`");
  });

  test("privileges beyond a plain container are named per service", () => {
    const text =
      "services:\n  a: { privileged: true, cap_add: [SYS_ADMIN], devices: [/dev/sda:/dev/sda], pid: host }\n" +
      "  b: { network_mode: host, security_opt: ['apparmor:unconfined'] }\n  c: { privileged: false }\n";
    expect(composeHostUse([text]).elevated).toEqual([
      "service a: runs privileged; gets capabilities SYS_ADMIN; gets host devices /dev/sda:/dev/sda; shares the host's namespace (pid: host), as its compose file says",
      "service b: shares the host's namespace (network_mode: host); security options apparmor:unconfined, as its compose file says",
    ]);
  });

  test("a short bind's source ends at the first `:` outside a variable: a default or error text is the variable's", () => {
    /* biome-ignore-start lint/suspicious/noTemplateCurlyInString: compose's variables, as the file has them */
    const text = `services:
  app:
    volumes: ["\${A:-./x}:/a", "\${B:?set B}:/b:ro", "\${C}:/c", "$D:/d", "\${E:-\${F:-/f}}/g:/e", "$$G:/g"]
`;
    expect(composeHostUse([text]).paths.map((p) => [p.source, p.target])).toEqual([
      ["${A:-./x}", "/a"],
      ["${B:?set B}", "/b"],
      ["${C}", "/c"],
      ["$D", "/d"],
      ["${E:-${F:-/f}}/g", "/e"],
      ["$$G", "/g"],
    ]);
    /* biome-ignore-end lint/suspicious/noTemplateCurlyInString: compose's variables */
  });

  test("hostPathOf: relative to the project directory; a variable or ~ is not resolved", () => {
    expect(hostPathOf("./up", "/srv/app")).toEqual({ path: "/srv/app/up" });
    expect(hostPathOf("../../etc", "/srv/app")).toEqual({ path: "/etc" });
    expect(hostPathOf("/data", "/srv/app")).toEqual({ path: "/data" });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable, written as the file has it
    expect(hostPathOf("${D}/x", "/srv/app")).toHaveProperty("unresolved");
    expect(hostPathOf("~/x", "/srv/app")).toHaveProperty("unresolved");
  });
});

describe("restore --start of a compose unit judges what its compose files mount", () => {
  const points = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", []));
  const internal = { host_internal_paths: ["/etc", "/proc"], host_internal_basenames: ["docker.sock"] };
  const state = (compose: string, over: Partial<CurrentState> = {}) =>
    emptyState({
      recipe: recipe({ workingDir: "/srv/shop" }),
      hostInternal: internal,
      composeUse: composeHostUse([compose]),
      ...over,
    });
  const forged =
    'services:\n  db:\n    image: x\n    privileged: true\n    volumes: ["/:/host", "/etc:/hostetc"]\n';

  test("a forged point's compose file that mounts / and /etc is refused; its privileges are warned about", () => {
    const plan = planRestore(request({ start: true }), points, state(forged));
    expect(plan.refusals).toEqual([
      expect.stringContaining(
        'service db would use "/" (mount), that is /: the host root `/` is never backed up',
      ),
      expect.stringContaining('service db would use "/etc" (mount), that is /etc: host internal path'),
    ]);
    expect(plan.confirmPaths).toEqual(["/", "/etc"]);
    expect(plan.warnings).toContain("service db: runs privileged, as its compose file says");
    // Without --start nothing is mounted: nothing to refuse.
    expect(planRestore(request(), points, state(forged)).refusals).toEqual([]);
  });

  test("--allow-path with the exact path confirms it, as for a standalone container", () => {
    const plan = planRestore(request({ start: true, allowPaths: ["/", "/etc"] }), points, state(forged));
    expect(plan.refusals).toEqual([]);
  });

  test("a relative source that climbs out of the project directory is judged where it leads", () => {
    const plan = planRestore(
      request({ start: true }),
      points,
      state(
        "services: { db: { volumes: ['./data:/d', '../../etc/ssh:/s'], env_file: ../../proc/1/environ } }",
      ),
    );
    expect(plan.refusals).toEqual([
      expect.stringContaining('"../../etc/ssh" (mount), that is /etc/ssh: host internal path'),
      expect.stringContaining('"../../proc/1/environ" (env file), that is /proc/1/environ'),
    ]);
  });

  test("a source under ~ or from a variable is refused: kopi-docka cannot tell where compose puts it", () => {
    const plan = planRestore(
      request({ start: true }),
      points,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable, written as the file has it
      state("services: { db: { volumes: ['~/x:/x', '${ROOT}:/r'] } }"),
    );
    expect(plan.refusals).toEqual([
      expect.stringContaining('"~/x" (mount): under ~, the home of whoever runs compose'),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable, written as the file has it
      expect.stringContaining('"${ROOT}" (mount): a variable'),
    ]);
    expect(plan.refusals[0]).toContain("restore without --start");
  });

  test("relocated: a bind the override pins (same service and container path) is the override's, not the file's", () => {
    const r = recipe({ workingDir: "/srv/shop" });
    r.inspects = { shop_db_1: { Mounts: [{ Type: "bind", Source: "/srv/x", Destination: "/x", RW: true }] } };
    const s = state("services: { db: { volumes: ['~/x:/x/', '~/y:/y'] } }", { recipe: r });
    const plan = planRestore(request({ start: true, targetDir: "/opt/elsewhere" }), points, s);
    expect(plan.override?.binds.map((b) => b.target)).toEqual(["/x"]);
    expect(plan.refusals).toEqual([expect.stringContaining('"~/y"')]);
  });

  test("--as: a bind written with a default value that the override pins is not refused, and a refusal quotes the whole source", () => {
    const r = recipe({ workingDir: "/srv/shop" });
    r.inspects = {
      shop_db_1: { Mounts: [{ Type: "bind", Source: "/srv/shop/data", Destination: "/data" }] },
    };
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable, written as the file has it
    const s = state("services: { db: { volumes: ['${DATA_DIR:-./data}:/data', '${LOGS:-./l}:/l'] } }", {
      recipe: r,
    });
    const plan = planRestore(request({ start: true, as: "shop2" }), points, s);
    expect(plan.override?.binds.map((b) => b.target)).toEqual(["/data"]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable, written as the file has it
    expect(plan.refusals).toEqual([expect.stringContaining('service db would use "${LOGS:-./l}" (mount)')]);
  });

  test("in place: a bind from a variable or ~ is pinned to the source the backup recorded, judged as recorded binds are", () => {
    const r = recipe({ workingDir: "/srv/shop" });
    const recorded = (source: string) => {
      r.inspects = {
        shop_db_1: {
          Mounts: [
            { Type: "bind", Source: source, Destination: "/usr/src/app/upload" },
            { Type: "bind", Source: "/home/me/k", Destination: "/k", RW: false },
          ],
        },
      };
      return r;
    };
    const compose =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable, written as the file has it
      "services: { db: { volumes: ['${UPLOAD_LOCATION}:/usr/src/app/upload/', '~/k:/k:ro', '${X}:/x'] } }";
    const plan = planRestore(
      request({ start: true }),
      points,
      state(compose, { recipe: recorded("/srv/immich/upload") }),
    );
    expect(plan.override?.binds).toEqual([
      { service: "db", source: "/srv/immich/upload", target: "/usr/src/app/upload", readOnly: false },
      { service: "db", source: "/home/me/k", target: "/k", readOnly: true },
    ]);
    expect(plan.start).toMatchObject({ files: ["/srv/shop/docker-compose.yml", plan.override?.path] });
    // A service's mount with no record (no container had it at the backup) stays compose's to decide.
    expect(plan.refusals).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable, written as the file has it
      expect.stringContaining('service db would use "${X}" (mount): a variable'),
    ]);

    const forged = planRestore(
      request({ start: true }),
      points,
      state(compose, { recipe: recorded("/etc") }),
    );
    expect(forged.refusals).toContainEqual(
      expect.stringContaining("container shop_db_1 would mount /etc: host internal path"),
    );
    expect(forged.refusals).toContainEqual(expect.stringContaining("--allow-path /etc confirms it"));
  });

  test("a mount reached through data the restore writes (a symlink there is the point's) is refused", () => {
    const withBind = groupRestorePoints(
      unitBackup("shop", "r1", "2026-01-01T10:00:00Z", [], { binds: ["/srv/shop/data"] }),
    );
    const s = state("services: { db: { volumes: ['./data:/data', './data/etc:/x', '/srv/other:/o'] } }");
    const plan = planRestore(request({ start: true }), withBind, s);
    expect(plan.refusals).toEqual([
      expect.stringContaining(
        '"./data/etc" (mount), that is /srv/shop/data/etc: inside /srv/shop/data, which this restore writes',
      ),
    ]);
    // The same for a standalone container's saved mounts.
    const r = recipe({ type: "standalone" });
    r.inspects = {
      shop_db_1: {
        Config: { Image: "busybox" },
        Mounts: [{ Type: "bind", Source: "/srv/shop/data/etc", Destination: "/x" }],
      },
    };
    const standalone = planRestore(request({ start: true }), withBind, emptyState({ recipe: r }));
    expect(standalone.refusals).toEqual([
      expect.stringContaining("container shop_db_1 would mount /srv/shop/data/etc: inside /srv/shop/data"),
    ]);
  });

  test("compose files that were not read, or pull in others, are never started", () => {
    const unread = planRestore(request({ start: true }), points, state("", { composeUse: undefined }));
    expect(unread.refusals).toEqual([expect.stringContaining("the compose files were not read")]);
    const included = planRestore(request({ start: true }), points, state("include: [x.conf]\n"));
    expect(included.refusals).toEqual([expect.stringContaining("`include:` pulls in compose files")]);
  });
});
