import { describe, expect, test } from "bun:test";
import { composeFacts } from "../../../../src/core/restore/compose-facts.ts";
import { copyCollisions } from "../../../../src/core/restore/copy-collisions.ts";
import { planCopyNaming } from "../../../../src/core/restore/copy-naming.ts";
import { copyProjectVariable, withProjectName } from "../../../../src/core/restore/copy-variable.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import type { FileStep } from "../../../../src/core/restore/types.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

// `$` + `{`, so no template literal reads it.
const V = (inner: string) => `$${"{"}${inner}}`;
const VAR = "COMPOSE_PROJECT_NAME";
/** The reviewer's `.env`: CRLF, `export` with quotes, and a duplicate line with a comment. */
const ENV = `export ${VAR}="shop"\r\n${VAR}=shop # dup\r\n`;
const COMPOSE = `services:\n  db:\n    image: x\n    container_name: ${V(VAR)}-web\n`;
const VARIABLE =
  "service db: its container_name comes from a variable, so the copy's container may take the original's name; " +
  "restore without --start, change it in the copy's compose files, then start it";

describe("withProjectName: a compose value with the project name put for COMPOSE_PROJECT_NAME", () => {
  test("every form compose v1 and v2 read alike", () => {
    for (const t of [
      `${V(VAR)}-web`,
      `$${VAR}-web`,
      `${V(`${VAR}:-x`)}-web`,
      `${V(`${VAR}-x`)}-web`,
      `${V(`${VAR}:-`)}-web`,
      `${V(`${VAR}:?unset`)}-web`,
    ])
      expect(withProjectName(t, "copy")).toBe("copy-web");
    expect(withProjectName(`${V(VAR)}_${V(VAR)}`, "copy")).toBe("copy_copy");
    expect(withProjectName("plain", "copy")).toBe("plain");
  });

  test("anything else compose would interpolate: unknown", () => {
    for (const t of [
      `${V("APP")}-web`,
      `${V(VAR)}-${V("X")}`,
      `$$${VAR}-web`,
      `$${VAR}X`,
      `${V(`${VAR}:-${V("X")}`)}`,
      `${V(`${VAR}:+x`)}`,
      `${V(VAR.toLowerCase())}`,
      `${V(VAR)}$`,
    ])
      expect(withProjectName(t, "copy")).toBeUndefined();
  });
});

describe("copyProjectVariable: what the copy's compose up puts for the variable", () => {
  const naming = planCopyNaming({ env: ENV, compose: [] }, "copy", "/opt/stacks/copy");
  const env: FileStep = { stored: "project/.env", to: "/opt/stacks/copy/.env", action: "create" };

  test("the copy's name when its .env, written from the recipe, sets it", () => {
    expect(naming.envName).toBe("copy");
    expect(copyProjectVariable(emptyState({ copyNaming: naming }), [env], "copy")).toBe("copy");
    const same = emptyState({ copyNaming: naming, inheritedProjectName: "copy" });
    expect(copyProjectVariable(same, [env], "copy")).toBe("copy");
  });

  test("unknown: the .env not written (a bind's, or not restored), another in the environment, no line", () => {
    expect(copyProjectVariable(emptyState({ copyNaming: naming }), [], "copy")).toBeUndefined();
    const inherited = emptyState({ copyNaming: naming, inheritedProjectName: "shop" });
    expect(copyProjectVariable(inherited, [env], "copy")).toBeUndefined();
    expect(copyProjectVariable(emptyState(), [env], "copy")).toBeUndefined();
    // A .env that names nothing, the copy named by its directory: no line is added, nothing set.
    const bare = planCopyNaming({ env: "A=1\n", compose: [] }, "copy", "/opt/stacks/copy");
    expect(copyProjectVariable(emptyState({ copyNaming: bare }), [env], "copy")).toBeUndefined();
    // A value quoted past its line is not rewritten.
    const open = planCopyNaming({ env: `${VAR}="shop\n`, compose: [] }, "copy", "/opt/stacks/copy");
    expect(open.envName).toBeUndefined();
  });
});

describe("copyCollisions: a container_name from COMPOSE_PROJECT_NAME judged as the copy makes it", () => {
  const r = recipe();
  const state = (over: Parameters<typeof emptyState>[0] = {}) =>
    emptyState({ recipe: r, compose: composeFacts([COMPOSE]), ...over });
  const original = { id: "c1", running: true, volumes: [], binds: [] };

  test("the copy's name free on this host: no collision; the variable unknown: refused as before", () => {
    const running = state({ containers: [{ ...original, name: "shop-web" }] });
    expect(copyCollisions(r, running, "copy")).toEqual([]);
    expect(copyCollisions(r, running)).toEqual([VARIABLE]);
    const other = state({ compose: composeFacts([COMPOSE.replace(VAR, "APP")]) });
    expect(copyCollisions(r, other, "copy")).toEqual([VARIABLE]);
  });

  test("the name made taken on this host, or the original's: refused, naming it", () => {
    const taken = state({ containers: [{ ...original, name: "copy-web" }] });
    expect(copyCollisions(r, taken, "copy")).toEqual([
      `service db: container_name copy-web ("${V(VAR)}-web" with the copy's .env) is taken on this host: ` +
        "restore without --start, change it in the copy's compose files, then start it",
    ]);
    const theirs = state({ compose: composeFacts([COMPOSE.replace("-web", "_db_1")]) });
    expect(copyCollisions(r, theirs, "shop")).toEqual([
      `service db: container_name shop_db_1 ("${V(VAR)}_db_1" with the copy's .env) is the original's ` +
        "container's name: restore without --start, change it in the copy's compose files, then start it",
    ]);
  });

  test("the plan of --as copy --start: not refused for it when the .env is written", () => {
    const points = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]));
    const naming = planCopyNaming({ env: ENV, compose: [] }, "copy", "/opt/stacks/copy");
    const s = state({ copyNaming: naming, containers: [{ ...original, name: "shop-web" }] });
    const plan = planRestore(request({ as: "copy", start: true }), points, s);
    expect(plan.refusals.filter((x) => x.includes("container_name"))).toEqual([]);
    // Only the data restored (`--only volumes`): the copy's directory keeps whatever .env it had.
    const only = planRestore(request({ as: "copy", start: true, what: "volumes" }), points, s);
    expect(only.refusals).toEqual(expect.arrayContaining([VARIABLE]));
  });
});
