import { expect, test } from "bun:test";
import type { PhaseError } from "../../../../src/core/backup/result.ts";
import { applyRunPolicies } from "../../../../src/core/backup/run-policies.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { wholeDataPolicy } from "../kopia/fixtures.ts";
import { config, fakeKopia } from "./fixtures.ts";

// The first run after an upgrade writes the whole-data part of kopi-docka@HOST's policy; when that
// write fails, kopia would still skip what a `.kopiaignore` in the data names, and a snapshot
// recorded whole would not be: the run's data sources are then not snapshotted, saying why.
const failingSet = () =>
  new FakeRunner(
    [],
    [{ argv: (a) => a[0] === "kopia" && a.includes("set"), exitCode: 1, stderr: "ERROR access denied" }],
  );
const d = (runner: FakeRunner) => ({
  kopia: fakeKopia(runner),
  hostname: "h",
  config: config(),
  log: silentLogger(),
});

test("the whole-data part not in place and its write failing: notWhole says why", async () => {
  const reads: { notWhole?: string } = {};
  const early: PhaseError[] = [];
  await applyRunPolicies(d(failingSet()), Promise.resolve({}), reads, early);
  expect(early[0]?.phase).toBe("policy");
  expect(reads.notWhole).toStartWith(
    "not snapshotted: kopia might leave files out (kopi-docka@h's kopia policy not updated:",
  );
});

test("already in place (a write of retention failed): the snapshots are whole, nothing is held back", async () => {
  const reads: { notWhole?: string } = {};
  await applyRunPolicies(d(failingSet()), Promise.resolve({ "kopi-docka@h": wholeDataPolicy }), reads, []);
  expect(reads.notWhole).toBeUndefined();
});
