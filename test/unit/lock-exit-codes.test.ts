import { expect, test } from "bun:test";
import type { ArgsDef, CommandDef } from "citty";
import { resolveChain } from "../../src/cli-args.ts";
import { commands } from "../../src/commands/index.ts";

// Every command that takes the host lock can exit 11, and its help must say so; the "locked" hint
// offers `--wait` only to the commands that take it (acquire.ts: `wait` left out otherwise).
const LOCK_TAKERS: [path: string, takesWait: boolean][] = [
  ["backup", true],
  ["recover", true],
  ["snapshots delete", true],
  ["snapshots pin", true],
  ["snapshots unpin", true],
  ["snapshots expire", true],
  ["restore", false],
  ["repo init", false],
  ["repo connect", false],
  ["repo disconnect", false],
  ["repo change-password", false],
  ["repo sync", false],
  ["repo maintenance", false],
  ["setup", false],
  ["upgrade", false],
];

test.each(LOCK_TAKERS)("`%s` lists exit 11 in its help; takes --wait: %p", async (path, takesWait) => {
  const { leaf, chain } = await resolveChain(
    { subCommands: commands } as CommandDef<ArgsDef>,
    path.split(" "),
  );
  expect(chain.length).toBe(path.split(" ").length + 1);
  const meta = await (typeof leaf.meta === "function" ? leaf.meta() : leaf.meta);
  expect(meta?.description).toMatch(/\b11\b/);
  const args = await (typeof leaf.args === "function" ? leaf.args() : leaf.args);
  expect(Object.hasOwn(args ?? {}, "wait")).toBe(takesWait);
});
