import { afterAll, describe, expect, test } from "bun:test";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeRecipeFiles, writtenAs } from "../../../../src/core/restore/files.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { readRecipe } from "../../../../src/core/restore/recipe.ts";
import type { FileStep } from "../../../../src/core/restore/types.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

// A compose project's files came back 0600 root with the backup's time as mtime: a config a non-root
// container reads (prometheus as 65534) was unreadable to it. The recipe now records each file's
// mode, owner and mtime, and the restore writes them back, masked.
const tmp = mkdtempSync(join(tmpdir(), "kd-file-modes-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const silent = { info() {}, warn() {}, error() {}, debug() {} } as never;
const MTIME = Date.parse("2026-03-04T05:06:07.000Z");
const attributes = { stored: "project/cfg.ini", mode: 0o640, uid: 1000, gid: 1001, mtimeMs: MTIME };
const staged = { mode: 0o100600, atime: new Date(1), mtime: new Date(2) } as never;

describe("writtenAs: what a recipe file is written with", () => {
  const step: FileStep = { stored: "project/cfg.ini", to: "/x/cfg.ini", action: "create", attributes };

  test("the recorded mode, owner (as root) and mtime", () => {
    expect(writtenAs(step, staged, true)).toEqual({
      mode: 0o640,
      owner: { uid: 1000, gid: 1001 },
      atime: new Date(MTIME),
      mtime: new Date(MTIME),
    });
  });

  test("not root: no owner; a set-id or sticky bit that got this far is masked off", () => {
    const setid = { ...step, attributes: { ...attributes, mode: 0o7755 } };
    expect(writtenAs(setid, staged, false)).toEqual({
      mode: 0o755,
      atime: new Date(MTIME),
      mtime: new Date(MTIME),
    });
  });

  test("an older recipe without them: the staged copy's read and write bits and times, as before", () => {
    const { attributes: _, ...old } = step;
    expect(writtenAs(old, { ...(staged as object), mode: 0o100755 } as never, true)).toEqual({
      mode: 0o644,
      atime: new Date(1),
      mtime: new Date(2),
    });
  });
});

describe("readRecipe: each file with what unit.json recorded of it", () => {
  test("joined by path in the recipe; a file without an entry has none", () => {
    const dir = join(tmp, "read");
    mkdirSync(join(dir, "compose"), { recursive: true });
    mkdirSync(join(dir, "project"));
    writeFileSync(join(dir, "compose", "01-docker-compose.yml"), "services: {}\n");
    writeFileSync(join(dir, "project", "cfg.ini"), "[a]\n");
    writeFileSync(join(dir, "project", ".env"), "A=1\n");
    writeFileSync(
      join(dir, "unit.json"),
      JSON.stringify({
        unit: "shop",
        type: "compose",
        composeFiles: [{ labelPath: "docker-compose.yml", stored: "compose/01-docker-compose.yml" }],
        fileAttributes: [attributes, { ...attributes, stored: "project/gone.ini" }],
      }),
    );
    const r = readRecipe(dir);
    expect(r.files.map((f) => [f.stored, f.attributes])).toEqual([
      ["compose/01-docker-compose.yml", undefined],
      ["project/.env", undefined],
      ["project/cfg.ini", attributes],
    ]);
  });
});

describe("writeRecipeFiles applies them", () => {
  test("mode, owner and mtime on the written file; its content the recipe's", () => {
    const dir = join(tmp, "apply");
    mkdirSync(join(dir, "recipe", "project"), { recursive: true });
    mkdirSync(join(dir, "target"));
    writeFileSync(join(dir, "recipe", "project", "cfg.ini"), "[a]\nb=1\n", { mode: 0o600 });
    const to = join(dir, "target", "cfg.ini");
    writeRecipeFiles(join(dir, "recipe"), [{ stored: "project/cfg.ini", to, action: "create", attributes }], {
      stamp: "S",
      log: silent,
      asRoot: process.getuid?.() === 0,
    });
    const st = statSync(to);
    expect(st.mode & 0o7777).toBe(0o640);
    if (process.getuid?.() === 0) expect([st.uid, st.gid]).toEqual([1000, 1001]);
    expect(st.mtimeMs).toBe(MTIME);
    expect(readFileSync(to, "utf8")).toBe("[a]\nb=1\n");
  });

  test("a link at the temporary name is never written, chmod'ed or chown'ed through", () => {
    const dir = join(tmp, "planted");
    mkdirSync(join(dir, "recipe", "project"), { recursive: true });
    mkdirSync(join(dir, "target"));
    writeFileSync(join(dir, "recipe", "project", "cfg.ini"), "x\n");
    const outside = join(dir, "outside");
    writeFileSync(outside, "keep\n", { mode: 0o600 });
    const before = statSync(outside);
    const to = join(dir, "target", "cfg.ini");
    symlinkSync(outside, join(dir, "target", `.cfg.ini.kd-new-${process.pid}`));
    const step: FileStep = {
      stored: "project/cfg.ini",
      to,
      action: "create",
      attributes: { ...attributes, mode: 0o666 },
    };
    writeRecipeFiles(join(dir, "recipe"), [step], { stamp: "S", log: silent, asRoot: true });
    const after = statSync(outside);
    expect([after.mode, after.uid, after.gid, after.mtimeMs]).toEqual([
      before.mode,
      before.uid,
      before.gid,
      before.mtimeMs,
    ]);
    expect(readFileSync(outside, "utf8")).toBe("keep\n");
    expect(lstatSync(to).isFile()).toBe(true);
    expect(statSync(to).mode & 0o777).toBe(0o666);
  });
});

describe("planRestore: a recipe file that a bind of the same run restores", () => {
  const unit = recipe({
    workingDir: "/opt/stacks/shop",
    bindMounts: [
      {
        source: "/opt/stacks/shop/cfg.ini",
        targets: [{ container: "shop_db_1", destination: "/etc/cfg.ini" }],
        readOnly: true,
        kind: "file",
      },
    ],
  });
  const withCfg = {
    ...unit,
    files: [...unit.files, { stored: "project/cfg.ini", sha256: "ccc", attributes }],
  };
  const points = groupRestorePoints(
    unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"], { binds: ["/opt/stacks/shop/cfg.ini"] }),
  );

  test("is left to the bind: no file step (so no .bak and no overwrite); the others keep theirs", () => {
    const plan = planRestore(request(), points, emptyState({ recipe: withCfg }));
    expect(plan.binds.map((b) => b.path)).toEqual(["/opt/stacks/shop/cfg.ini"]);
    expect(plan.files.map((f) => f.to)).toEqual([
      "/opt/stacks/shop/docker-compose.yml",
      "/opt/stacks/shop/.env",
    ]);
  });

  test("a differing one there now is no 'other versions' refusal: the bind's undo point keeps it", () => {
    const state = emptyState({
      recipe: withCfg,
      paths: { "/opt/stacks/shop/cfg.ini": "file" },
      fileHashes: { "/opt/stacks/shop/cfg.ini": "edited" },
    });
    const plan = planRestore(request(), points, state);
    expect(plan.refusals.join("\n")).not.toContain("other versions");
    expect(plan.undo.map((u) => u.name)).toContain("/opt/stacks/shop/cfg.ini");
  });

  test("--what recipe restores no bind: the file is written from the recipe, with its attributes", () => {
    const plan = planRestore(request({ what: "recipe" }), points, emptyState({ recipe: withCfg }));
    expect(plan.files.find((f) => f.stored === "project/cfg.ini")).toEqual({
      stored: "project/cfg.ini",
      to: "/opt/stacks/shop/cfg.ini",
      action: "create",
      attributes,
    });
  });
});
