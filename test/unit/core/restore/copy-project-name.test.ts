import { describe, expect, test } from "bun:test";
import { planCopyNaming } from "../../../../src/core/restore/copy-naming.ts";
import {
  applyProjectName,
  setComposeName,
  setEnvProjectName,
} from "../../../../src/core/restore/copy-project-name.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { planFiles } from "../../../../src/core/restore/plan-steps.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { renderRestorePlan } from "../../../../src/ui/restore-report.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

describe("a copy's .env names the copy's compose project", () => {
  test("each form of the line gets the copy's name; every other byte is kept", () => {
    const text =
      'A=1\r\nCOMPOSE_PROJECT_NAME=xe-pn\r\n  export COMPOSE_PROJECT_NAME = \'xe-pn\' # c\nB="x"\nCOMPOSE_PROJECT_NAME: "xe-pn"';
    expect(setEnvProjectName(text, "copy")).toEqual({
      text: 'A=1\r\nCOMPOSE_PROJECT_NAME=copy\r\n  export COMPOSE_PROJECT_NAME = copy\nB="x"\nCOMPOSE_PROJECT_NAME: copy',
      found: true,
      unsafe: false,
    });
  });

  test("a look-alike key is left alone; with none, a line is added only when asked", () => {
    const text = "MY_COMPOSE_PROJECT_NAME=a\n# COMPOSE_PROJECT_NAME=b";
    expect(setEnvProjectName(text, "copy")).toEqual({ text, found: false, unsafe: false });
    expect(setEnvProjectName(text, "copy", true).text).toBe(`${text}\nCOMPOSE_PROJECT_NAME=copy\n`);
    expect(setEnvProjectName("", "copy", true).text).toBe("COMPOSE_PROJECT_NAME=copy\n");
  });

  test("a quoted value that goes on past its line is not rewritten: unsafe", () => {
    const text = 'COMPOSE_PROJECT_NAME="xe\npn"\n';
    expect(setEnvProjectName(text, "copy", true)).toEqual({ text, found: false, unsafe: true });
  });
});

describe("a copy's compose files name the copy's project (top-level name:)", () => {
  const file = (name: string) =>
    `name: ${name}   # ours\nservices:\n  app:\n    image: x\n    labels:\n      name: keep\n`;

  test("a plain or quoted name is replaced, the rest byte for byte", () => {
    expect(setComposeName(file("xe-nm"), "copy")).toEqual({ text: file("copy"), found: true, unsafe: false });
    expect(setComposeName(file("'xe-nm'"), "copy").text).toBe(file("'copy'"));
    // A name YAML would read as a number is quoted.
    expect(setComposeName(file("xe-nm"), "123").text).toBe(file('"123"'));
  });

  test("a variable, a block value or a flow mapping is not rewritten: unsafe", () => {
    for (const text of [
      file("$" + "{PROJECT}"),
      "name: >-\n  xe-nm\nservices: {}\n",
      '{"name": "xe-nm", "services": {}}\n',
    ])
      expect(setComposeName(text, "copy")).toEqual({ text, found: false, unsafe: true });
  });

  test("a file without a top-level name, or one that does not parse, is left alone", () => {
    const text = "services:\n  app:\n    image: x\n";
    expect(setComposeName(text, "copy")).toEqual({ text, found: false, unsafe: false });
    expect(setComposeName("name: [\n", "copy")).toEqual({ text: "name: [\n", found: false, unsafe: false });
  });
});

describe("planCopyNaming: compose run in the copy's directory names the copy", () => {
  const compose = (text: string) => [{ stored: "compose/01-docker-compose.yml", text }];
  const plain = compose("services: {}\n");

  test("the .env's COMPOSE_PROJECT_NAME is rewritten; the edit is applied the same way when written", () => {
    const n = planCopyNaming({ env: "COMPOSE_PROJECT_NAME=xe-pn\n", compose: plain }, "xe-pnc", "/r/xe-pnc");
    expect(n.warnings).toEqual([]);
    expect(Object.keys(n.files)).toEqual(["project/.env"]);
    const edit = n.files["project/.env"];
    if (!edit) throw new Error("no edit");
    const written = applyProjectName(Buffer.from("COMPOSE_PROJECT_NAME=xe-pn\n"), edit.edit);
    expect(Buffer.from(written).toString()).toBe("COMPOSE_PROJECT_NAME=xe-pnc\n");
    expect(edit.sha256).toBe(new Bun.CryptoHasher("sha256").update(written).digest("hex"));
  });

  test("named after its directory: nothing to do when the copy's directory is its name", () => {
    expect(planCopyNaming({ env: "A=1\n", compose: plain }, "c2", "/r/c2")).toEqual({
      files: {},
      warnings: [],
    });
  });

  test("a directory named otherwise (--target-dir): a line is added to the .env, or a warning without one", () => {
    const n = planCopyNaming({ env: "A=1", compose: plain }, "c2", "/srv/app");
    expect(n.files["project/.env"]?.edit).toEqual({ kind: "env", name: "c2", append: true });
    expect(n.warnings).toEqual([]);
    const bare = planCopyNaming({ compose: plain }, "c2", "/srv/app");
    expect(bare.files).toEqual({});
    expect(bare.warnings).toEqual([
      "compose run in /srv/app would not name the copy's project (compose would name it after the directory, " +
        "app, and there is no .env): pass -p c2 to every compose command there " +
        "(docker-compose -p c2 down -v removes the copy), or it acts on another project",
    ]);
  });

  test("a top-level name: is rewritten; one from a variable is overruled by a .env line, or warned of", () => {
    const named = planCopyNaming({ compose: compose("name: xe-nm\nservices: {}\n") }, "c2", "/srv/app");
    expect(named.files["compose/01-docker-compose.yml"]?.edit).toEqual({ kind: "compose", name: "c2" });
    expect(named.warnings).toEqual([]);
    const variable = compose("name: $" + "{P}\nservices: {}\n");
    const withEnv = planCopyNaming({ env: "P=xe-nm\n", compose: variable }, "c2", "/r/c2");
    expect(withEnv.files["project/.env"]?.edit).toEqual({ kind: "env", name: "c2", append: true });
    expect(withEnv.warnings).toEqual([]);
    const without = planCopyNaming({ compose: variable }, "c2", "/r/c2");
    expect(without.warnings[0]).toContain("top-level name: is not a plain name");
    expect(without.warnings[0]).toContain("pass -p c2");
  });
});

describe("planFiles of a copy", () => {
  const r = recipe();
  const naming = planCopyNaming({ env: "COMPOSE_PROJECT_NAME=shop\n", compose: [] }, "c2", "/opt/stacks/c2");
  const edited = naming.files["project/.env"]?.sha256 ?? "";

  test("the .env step carries the edit; restored again over its own, it is the same", () => {
    const fresh = planFiles(r, emptyState({ copyNaming: naming }), "/opt/stacks/c2");
    expect(fresh.find((f) => f.stored === "project/.env")).toEqual({
      stored: "project/.env",
      to: "/opt/stacks/c2/.env",
      action: "create",
      projectName: { kind: "env", name: "c2" },
    });
    const again = planFiles(
      r,
      emptyState({ copyNaming: naming, fileHashes: { "/opt/stacks/c2/.env": edited } }),
      "/opt/stacks/c2",
    );
    expect(again.find((f) => f.stored === "project/.env")?.action).toBe("same");
  });

  test("the plan names the copy's project for the .env it writes", () => {
    const points = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]));
    const plan = planRestore(request({ as: "c2" }), points, emptyState({ recipe: r, copyNaming: naming }));
    expect(renderRestorePlan(plan)).toContain(
      "  create     file /opt/stacks/c2/.env (naming compose project c2)",
    );
  });
});
