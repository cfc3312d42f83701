import { expect, test } from "bun:test";
import { repeatedFlag } from "../../src/cli-args.ts";

test.each<{ argv: string[]; want: string[] }>([
  { argv: [], want: [] },
  { argv: ["--unit", "a"], want: ["a"] },
  { argv: ["--unit", "a", "--unit", "b"], want: ["a", "b"] },
  { argv: ["--unit=a", "--unit", "b"], want: ["a", "b"] },
  { argv: ["--unit", "a,b", "--unit=c,d"], want: ["a", "b", "c", "d"] },
  { argv: ["--unit", "", "--unit=", "--unit", "a,,b"], want: ["a", "b"] },
  { argv: ["--unit"], want: [] },
  { argv: ["--units", "x", "--unitx=y", "--volume", "v"], want: [] },
])("repeatedFlag($argv) → $want", ({ argv, want }) => {
  expect(repeatedFlag(argv, "unit")).toEqual(want);
});
