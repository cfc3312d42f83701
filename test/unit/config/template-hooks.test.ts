import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { CONFIG_TEMPLATE } from "../../../src/config/template.ts";
import { runHook } from "../../../src/core/hooks.ts";
import { FakeRunner } from "../../fakes/fake-runner.ts";

const names = (text: string) => new Set(text.match(/KOPI_DOCKA_[A-Z_]+/g) ?? []);

/** What runHook itself puts in a hook's environment, and what its two callers add. */
async function hookVariables(): Promise<Set<string>> {
  const runner = new FakeRunner([{ argv: ["/bin/true"] }]);
  await runHook(runner, "/bin/true", { type: "pre_backup", unit: "u", runId: "r", timeoutSec: 5 });
  const set = Object.entries(runner.calls[0]?.options.env ?? {})
    .filter(([k, v]) => k.startsWith("KOPI_DOCKA_") && v !== undefined)
    .map(([k]) => k);
  // The callers' extras (`env: { KOPI_DOCKA_… }` in the runHook call), read from their source.
  for (const caller of ["src/core/backup/unit.ts", "src/core/restore/execute.ts"]) {
    const src = readFileSync(new URL(`../../../${caller}`, import.meta.url), "utf8");
    const extra = /runHook\([\s\S]*?env: \{ (KOPI_DOCKA_[A-Z_]+):/.exec(src)?.[1];
    if (!extra) throw new Error(`no KOPI_DOCKA_ variable passed to runHook in ${caller}`);
    set.push(extra);
  }
  return new Set(set);
}

test("the config template names exactly the variables a hook gets", async () => {
  const hooks = CONFIG_TEMPLATE.slice(CONFIG_TEMPLATE.indexOf("[backup.hooks]"));
  const section = hooks.slice(0, hooks.indexOf("\n[", 1));
  const expected = await hookVariables();
  expect([...expected].sort()).toEqual([
    "KOPI_DOCKA_BACKUP_ID",
    "KOPI_DOCKA_HOOK_TYPE",
    "KOPI_DOCKA_RESTORE_POINT",
    "KOPI_DOCKA_RUN_ID",
    "KOPI_DOCKA_UNIT_NAME",
  ]);
  expect([...names(section)].sort()).toEqual([...expected].sort());
});

test("README's backup.hooks row names the same variables", async () => {
  const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
  const row = readme.split("\n").find((l) => l.startsWith("| `backup.hooks.pre_backup"));
  expect([...names(row ?? "")].sort()).toEqual([...(await hookVariables())].sort());
});
