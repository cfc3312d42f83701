import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeRecipeFiles } from "../../../../src/core/restore/files.ts";
import { privatePlace, recipeNameProblem } from "../../../../src/core/restore/places.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import type { LoadedRecipe } from "../../../../src/core/restore/recipe.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

const tmp = mkdtempSync(join(tmpdir(), "kd-places-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const silent = { info() {}, warn() {}, error() {}, debug() {} } as never;

/** A recipe (of a forged point, say) whose files go into `workingDir` under the names `stored` gives. */
const forged = (workingDir: string, stored: string[]): LoadedRecipe => {
  const composeFiles = stored
    .filter((s) => s.startsWith("compose/"))
    .map((s) => ({ labelPath: "x", stored: s }));
  return { ...recipe({ workingDir, composeFiles }), files: stored.map((s) => ({ stored: s, sha256: "f" })) };
};
const internal = { host_internal_paths: ["/etc", "/usr"], host_internal_basenames: [] };

describe("a recipe's working dir and file names: nothing that changes how the host runs", () => {
  const points = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", []));
  const plan = (r: LoadedRecipe, over = {}) =>
    planRestore(request(over), points, emptyState({ recipe: r, hostInternal: internal }));

  test("compose/01-authorized_keys into /root/.ssh: refused for the place and for the name", () => {
    const p = plan(forged("/root/.ssh", ["compose/01-authorized_keys"]));
    expect(p.files.map((f) => [f.to, f.action])).toEqual([["/root/.ssh/authorized_keys", "create"]]);
    expect(p.refusals).toEqual([
      expect.stringContaining("restores its compose files into /root/.ssh, a hidden directory"),
      expect.stringContaining("must end in .yml or .yaml"),
    ]);
    expect(p.confirmPaths).toEqual(["/root/.ssh"]);
    // Confirming the place leaves the name refused: a backup never records one like it.
    const allowed = plan(forged("/root/.ssh", ["compose/01-authorized_keys"]), {
      allowPaths: ["/root/.ssh"],
    });
    expect(allowed.refusals).toEqual([expect.stringContaining("must end in .yml or .yaml")]);
  });

  test("project/root into /var/spool/cron/crontabs: refused for the place and for the name", () => {
    const p = plan(forged("/var/spool/cron/crontabs", ["compose/01-docker-compose.yml", "project/root"]));
    expect(p.refusals).toEqual([
      expect.stringContaining("the spool directory cron and at run jobs from"),
      expect.stringContaining(
        "project/root would be written as /var/spool/cron/crontabs/root: a backup copies only",
      ),
    ]);
  });

  test("a hidden file other than .env, restored in place: refused (a .tmux.conf in /root)", () => {
    const p = plan(
      forged("/root", ["compose/01-docker-compose.yml", "project/.tmux.conf", "project/.env.prod"]),
    );
    expect(p.refusals).toEqual([
      expect.stringContaining("project/.tmux.conf would be written as /root/.tmux.conf"),
    ]);
  });

  test("legitimate homes of a compose project are restored in place as before", () => {
    for (const dir of ["/root/shop", "/home/ann/apps/shop", "/srv/shop", "/opt/shop"]) {
      const p = plan(
        forged(dir, [
          "compose/01-docker-compose.yml",
          "compose/02-compose.override.yaml",
          "project/.env",
          "project/app.conf",
        ]),
      );
      expect(p.targetDir).toBe(dir);
      expect(p.refusals).toEqual([]);
    }
  });

  test("--target-dir or a copy: the person's or kopi-docka's directory, any name a backup gives is fine", () => {
    const r = forged("/root/.ssh", ["compose/01-stack", "project/.tmux.conf"]);
    expect(plan(r, { targetDir: "/root/.ssh" }).refusals).toEqual([]);
    expect(plan(r, { as: "copy" }).refusals).toEqual([]);
    // A project file a backup never copies is refused wherever it would go.
    const odd = plan(forged("/srv/shop", ["compose/01-a.yml", "project/authorized_keys"]), { as: "copy" });
    expect(odd.refusals).toEqual([expect.stringContaining("a backup copies only")]);
  });

  test("a bind restored in place into a hidden directory needs --allow-path; a copy's lies under its own dir", () => {
    const withBind = groupRestorePoints(
      unitBackup("shop", "r1", "2026-01-01T10:00:00Z", [], { binds: ["/root/.ssh", "/srv/data"] }),
    );
    const state = emptyState({ recipe: recipe({ workingDir: "/srv/shop" }), hostInternal: internal });
    const inPlace = planRestore(request(), withBind, state);
    expect(inPlace.refusals).toEqual([
      expect.stringContaining("bind mount /root/.ssh is in a hidden directory"),
    ]);
    expect(inPlace.confirmPaths).toEqual(["/root/.ssh"]);
    expect(planRestore(request({ allowPaths: ["/root/.ssh"] }), withBind, state).refusals).toEqual([]);
    expect(planRestore(request({ as: "copy" }), withBind, state).refusals).toEqual([]);
    // A container on this host binds it already: this host's own word, not the point's.
    const bound = { id: "c1", name: "shop-app", running: true, volumes: [], binds: ["/root/.ssh"] };
    expect(planRestore(request(), withBind, { ...state, containers: [bound] }).refusals).toEqual([]);
  });

  test("privatePlace and recipeNameProblem", () => {
    expect(privatePlace("/home/u/.config/systemd/user")).toContain("hidden");
    expect(privatePlace("/home/u/.bashrc")).toContain("hidden");
    expect(privatePlace("/var/spool/cron")).toContain("spool");
    expect(privatePlace("/var/spoolish")).toBeUndefined();
    expect(privatePlace("/root/shop")).toBeUndefined();
    expect(recipeNameProblem("project/.envrc", ".envrc", true)).toBeUndefined();
    expect(recipeNameProblem("compose/01-stack", "stack", false)).toBeUndefined();
    expect(recipeNameProblem("compose/01-.yarnrc.yml", ".yarnrc.yml", true)).toContain("hidden");
  });
});

test("writeRecipeFiles: no mode bit from the snapshot makes a file executable or set-id", () => {
  mkdirSync(join(tmp, "recipe", "compose"), { recursive: true });
  const from = join(tmp, "recipe", "compose", "01-docker-compose.yml");
  writeFileSync(from, "services: {}\n", { mode: 0o6755 });
  const to = join(tmp, "target", "docker-compose.yml");
  writeRecipeFiles(join(tmp, "recipe"), [{ stored: "compose/01-docker-compose.yml", to, action: "create" }], {
    stamp: "S",
    log: silent,
  });
  expect(statSync(to).mode & 0o7777).toBe(0o644);
});
