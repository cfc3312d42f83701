import { expect, test } from "bun:test";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import {
  applyIgnoreRules,
  globalPolicyFlags,
  ignoreRuleFlags,
  ownRetention,
} from "../../../../src/core/kopia/policy.ts";
import type { KopiaPolicy } from "../../../../src/core/kopia/policy-schema.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { config } from "../backup/fixtures.ts";

test("global policy: kopia keeps every snapshot (retention all zero, whatever [retention] says); only values that differ are set", () => {
  const current = {
    retention: {
      keepLatest: 10,
      keepHourly: 0,
      keepDaily: 7,
      keepWeekly: 0,
      keepMonthly: 24,
      keepAnnual: 0,
    },
    compression: { compressorName: "none" },
  };
  expect(globalPolicyFlags(config(), current)).toEqual([
    "--keep-latest=0",
    "--keep-daily=0",
    "--keep-monthly=0",
    "--compression=zstd",
  ]);
  // Unset in kopia is not zero: kopia's defaults would apply.
  expect(globalPolicyFlags(config(), { compression: { compressorName: "zstd" } })).toHaveLength(6);
  const same = {
    retention: { keepLatest: 0, keepHourly: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepAnnual: 0 },
    compression: { compressorName: "zstd" },
  };
  expect(globalPolicyFlags(config(), same)).toEqual([]);
});

test("ownRetention: defined policies besides the global one that keep snapshots by themselves", () => {
  expect(
    ownRetention({
      "(global)": { retention: { keepLatest: 10 } },
      "kopi-docka@h": { actions: {} },
      "kopi-docka@h:/kopi-docka/shop/volumes/db": { retention: { keepDaily: 7, keepLatest: 0 } },
      "kopi-docka@h:/kopi-docka/shop/volumes/x": {
        retention: { keepLatest: 0 },
        files: { ignore: ["*.log"] },
      },
    }),
  ).toEqual(["kopi-docka@h:/kopi-docka/shop/volumes/db"]);
  expect(ownRetention({})).toEqual([]);
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

test("ignore rules from the run's one policy export: set only when the list differs, then noted", async () => {
  const src = "kopi-docka@h:/kopi-docka/shop/volumes/db";
  const runner = new FakeRunner([
    {
      argv: [
        "kopia",
        "--config-file",
        "/k",
        "policy",
        "set",
        src,
        "--add-ignore=*.log",
        "--no-auto-maintenance",
      ],
    },
  ]);
  const kopia = createKopia(runner, {
    configFile: "/k",
    cacheDir: "/c",
    logDir: "/l",
    password: () => "pw",
    hostname: "h",
    username: "kopi-docka",
  });
  const defined: Record<string, KopiaPolicy> = { [src]: { files: { ignore: [] } } };
  expect(await applyIgnoreRules(kopia, defined, src, ["*.log"])).toEqual(["--add-ignore=*.log"]);
  // A second unit recording the same source sees the list as set: no second write.
  expect(await applyIgnoreRules(kopia, defined, src, ["*.log"])).toEqual([]);
  expect(runner.remaining).toBe(0);
  expect(runner.calls).toHaveLength(1);
});
