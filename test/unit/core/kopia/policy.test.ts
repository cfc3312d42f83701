import { expect, test } from "bun:test";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import {
  applyIgnoreRules,
  DOT_IGNORE_PLACEHOLDER,
  IGNORE_RULE_PLACEHOLDER,
  identityPolicyFlags,
  ignoreRuleFlags,
  NO_SIZE_LIMIT,
  ownRetention,
  retentionOffFlags,
  wholeDataFlags,
} from "../../../../src/core/kopia/policy.ts";
import type { KopiaPolicy } from "../../../../src/core/kopia/policy-schema.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { config } from "../backup/fixtures.ts";
import { wholeDataPolicy } from "./fixtures.ts";

const off = {
  keepLatest: 0,
  keepHourly: 0,
  keepDaily: 0,
  keepWeekly: 0,
  keepMonthly: 0,
  keepAnnual: 0,
  ignoreIdenticalSnapshots: false,
};

const whole = wholeDataPolicy;

test("identity policy: retention off and the configured compression, only what differs; unset is not zero", () => {
  expect(
    identityPolicyFlags(config(), { retention: off, compression: { compressorName: "zstd" }, ...whole }),
  ).toEqual([]);
  expect(identityPolicyFlags(config(), { retention: { ...off, keepDaily: 7 }, ...whole })).toEqual([
    "--keep-daily=0",
    "--compression=zstd",
  ]);
  // Inherited (unset) compression or retention is written once, so the global policy never matters.
  expect(identityPolicyFlags(config(), {})).toHaveLength(15);
});

test("identity policy: neither the data nor a global policy decides what is left out (.kopiaignore, CACHEDIR.TAG, size, filesystems, ignored errors)", () => {
  expect(wholeDataFlags(whole)).toEqual([]);
  expect(wholeDataFlags({})).toEqual([
    `--add-ignore=${IGNORE_RULE_PLACEHOLDER}`,
    `--add-dot-ignore=${DOT_IGNORE_PLACEHOLDER}`,
    "--ignore-cache-dirs=false",
    `--max-file-size=${NO_SIZE_LIMIT}`,
    "--one-file-system=false",
    "--ignore-file-errors=false",
    "--ignore-dir-errors=false",
  ]);
  // Another list set on the identity (by hand) is replaced by the placeholder alone.
  expect(
    wholeDataFlags({
      ...whole,
      files: { ...whole.files, ignoreDotFiles: [".kopiaignore", DOT_IGNORE_PLACEHOLDER] },
    }),
  ).toEqual(["--remove-dot-ignore=.kopiaignore"]);
  // So is a list of ignore rules: the identity's list is the one a source without its own inherits.
  expect(
    wholeDataFlags({ ...whole, files: { ...whole.files, ignore: ["*.db", IGNORE_RULE_PLACEHOLDER] } }),
  ).toEqual(["--remove-ignore=*.db"]);
});

test("retention off on kopi-docka's identity policy: every field zero (kopia's keep-everything); unset is not zero", () => {
  expect(retentionOffFlags({ retention: { keepLatest: 10, keepHourly: 0, keepDaily: 7 } })).toEqual([
    "--keep-latest=0",
    "--keep-daily=0",
    "--keep-weekly=0",
    "--keep-monthly=0",
    "--keep-annual=0",
    // A global "ignore identical" would leave an idle source without a snapshot every night.
    "--ignore-identical-snapshots=false",
  ]);
  expect(retentionOffFlags({ retention: off })).toEqual([]);
  expect(retentionOffFlags({})).toHaveLength(7);
});

test("ownRetention: policies of single sources of this identity that keep snapshots by themselves", () => {
  const me = "kopi-docka@h";
  expect(
    ownRetention(
      {
        "(global)": { retention: { keepLatest: 10 } },
        "@h": { retention: { keepLatest: 3 } }, // less specific than the identity: overridden by it
        [me]: { actions: {} },
        [`${me}:/kopi-docka/shop/volumes/db`]: { retention: { keepDaily: 7, keepLatest: 0 } },
        [`${me}:/kopi-docka/shop/volumes/x`]: { retention: { keepLatest: 0 }, files: { ignore: ["*.log"] } },
        "kopi-docka@other:/kopi-docka/shop/volumes/db": { retention: { keepDaily: 7 } },
      },
      me,
    ),
  ).toEqual([`${me}:/kopi-docka/shop/volumes/db`]);
  expect(ownRetention({}, me)).toEqual([]);
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
