import { expect, test } from "bun:test";
import { globalPolicyFlags, ignoreRuleFlags } from "../../../../src/core/kopia/policy.ts";
import { config } from "../backup/fixtures.ts";

test("global policy: only values that differ from the config are set", () => {
  const current = {
    retention: {
      keepLatest: 10,
      keepHourly: 48,
      keepDaily: 7,
      keepWeekly: 4,
      keepMonthly: 24,
      keepAnnual: 3,
    },
    compression: { compressorName: "none" },
  };
  expect(globalPolicyFlags(config(), current)).toEqual([
    "--keep-hourly=0",
    "--keep-monthly=12",
    "--compression=zstd",
  ]);
  const same = {
    retention: { keepLatest: 10, keepHourly: 0, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepAnnual: 3 },
    compression: { compressorName: "zstd" },
  };
  expect(globalPolicyFlags(config(), same)).toEqual([]);
});

test("exclude patterns: the source's own ignore list becomes exactly the config's, one argv element each", () => {
  expect(ignoreRuleFlags(["*.log", "cache/", "*.log"], { files: { ignore: ["cache/"] } })).toEqual([
    "--add-ignore=*.log",
  ]);
  expect(ignoreRuleFlags([], undefined)).toEqual([]);
  expect(ignoreRuleFlags([], { files: {} })).toEqual([]);
  // A pattern removed from the config is removed from kopia's policy too.
  expect(ignoreRuleFlags(["cache/"], { files: { ignore: ["*.log", "cache/"] } })).toEqual([
    "--remove-ignore=*.log",
  ]);
  expect(ignoreRuleFlags([], { files: { ignore: ["*.log"] } })).toEqual(["--remove-ignore=*.log"]);
});
