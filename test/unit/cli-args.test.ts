import { expect, test } from "bun:test";
import { rejectUnknownArgs, repeatedFlag } from "../../src/cli-args.ts";
import backup from "../../src/commands/backup.ts";

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
