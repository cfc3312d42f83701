import { expect, test } from "bun:test";
import { rejectUnknownArgs, repeatedFlag } from "../../src/cli-args.ts";
import backup from "../../src/commands/backup.ts";
import restore from "../../src/commands/restore.ts";

test.each<{ argv: string[]; want: string[] }>([
  { argv: [], want: [] },
  { argv: ["--unit", "a"], want: ["a"] },
  { argv: ["--unit", "a", "--unit", "b"], want: ["a", "b"] },
  { argv: ["--unit=a", "--unit", "b"], want: ["a", "b"] },
  { argv: ["--unit", "a,b", "--unit=c,d"], want: ["a", "b", "c", "d"] },
  { argv: ["--units", "x", "--unitx=y", "--volume", "v"], want: [] },
])("repeatedFlag($argv) → $want", ({ argv, want }) => {
  expect(repeatedFlag(argv, "unit")).toEqual(want);
});

// Issue 14: an empty item would make the list empty, and an empty list means "every unit".
test.each([[["--unit", "", "--unit=", "--unit", "a,,b"]], [["--unit", "a,"]], [["--unit"]], [["--unit= "]]])(
  "repeatedFlag(%j) is a usage error",
  (argv) => {
    expect(() => repeatedFlag(argv, "unit")).toThrow("--unit has an empty name");
  },
);

test.each([
  [["--unit", ""], "--unit needs a value"],
  [["--unit="], "--unit needs a value"],
  [["--config"], "--config needs a value"],
  [["--config", "--json"], "--config needs a value"],
  [["--scope", " "], "--scope needs a value"],
])("rejectUnknownArgs(backup %j): %s", async (argv, message) => {
  await expect(rejectUnknownArgs(backup as never, argv as string[], "kopi-docka backup")).rejects.toThrow(
    message as string,
  );
});

// A single-value flag given twice: citty keeps the last, so `restore --unit A --unit B` restored B.
const commands = { backup, restore };
test.each([
  ["restore", ["--unit", "A", "--unit", "B", "--latest", "--yes"], "--unit given twice"],
  ["restore", ["--unit=A", "--unit", "B"], "--unit given twice"],
  ["restore", ["--run", "1", "--run=2"], "--run given twice"],
  ["restore", ["--as", "x", "--yes", "--as", "y"], "--as given twice"],
  ["restore", ["--target-dir", "/a", "--target-dir", "/b"], "--target-dir given twice"],
  ["restore", ["--only", "volumes", "--only", "binds"], "--only given twice"],
  ["backup", ["--scope", "full", "--scope=minimal"], "--scope given twice"],
  ["backup", ["--config", "/a", "--config", "/b"], "--config given twice"],
])("rejectUnknownArgs(%s %j) is a usage error", async (name, argv, message) => {
  await expect(
    rejectUnknownArgs(commands[name as keyof typeof commands] as never, argv as string[], "kopi-docka x"),
  ).rejects.toThrow(message as string);
});

test.each([
  ["backup", ["--unit", "a", "--unit=b", "--unit", "c,d"]],
  ["restore", ["--unit", "A", "--volume", "v1", "--volume=v2", "--allow-path", "/p", "--allow-path", "/q"]],
  ["restore", ["--yes", "--yes", "--dry-run", "--dry-run"]],
])("rejectUnknownArgs(%s %j) lets repeatable flags repeat", async (name, argv) => {
  await expect(
    rejectUnknownArgs(commands[name as keyof typeof commands] as never, argv as string[], "kopi-docka x"),
  ).resolves.toBeUndefined();
});
