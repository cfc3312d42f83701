import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { noteGatePolicy, openAhead } from "../../../../src/core/backup/ahead.ts";
import type { UnitPlan } from "../../../../src/core/backup/plan-model.ts";
import {
  clearWarmPending,
  isWarmPending,
  markWarmPending,
} from "../../../../src/core/backup/warm-pending.ts";
import { writeMarker } from "../../../../src/core/repository/saved.ts";

// openAhead starts kopia processes only when every condition holds; these are the cases where it
// must not, checked before anything is spawned (a deps object without a runner would throw).
const deps = {
  kopia: { options: { username: "kopi-docka" } },
  hostname: "h",
  log: { debug() {} },
  lifecycle: { signal: new AbortController().signal },
  // biome-ignore lint/suspicious/noExplicitAny: only the fields the eligibility check reads
} as any;

function stateDir(location = "filesystem /srv/repo"): string {
  const dir = mkdtempSync(join(tmpdir(), "kd-ahead-"));
  writeMarker(dir, { backend: "filesystem", location, connectedAt: "2026-12-01T00:00:00Z" });
  return dir;
}
const paths = (stateDir: string) => ({ stateDir, journalDir: join(stateDir, "journal") });

function unit(mode: UnitPlan["mode"], path: string): UnitPlan {
  return {
    name: "app",
    mode,
    sources: [{ type: "volume", label: "v", path, logicalPath: "/v", tags: {} }],
    stopOrder: ["app-1"],
    // biome-ignore lint/suspicious/noExplicitAny: the fields openAhead reads
  } as any;
}

describe("snapshots opened ahead of the repository's reads", () => {
  test("the gate marker is written for this repository and identity, and removed when the gate is gone", () => {
    const dir = stateDir();
    noteGatePolicy(dir, deps, true);
    const key = readFileSync(join(dir, "gate-policy"), "utf8").trim();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    noteGatePolicy(dir, deps, false);
    expect(existsSync(join(dir, "gate-policy"))).toBe(false);
  });

  test("no marker, another repository, another identity, or a mode other than cold: nothing opened", () => {
    const data = mkdtempSync(join(tmpdir(), "kd-ahead-data-"));
    const dir = stateDir();
    expect(openAhead(deps, paths(dir), unit("cold", data))).toBeUndefined();
    noteGatePolicy(dir, deps, true);
    for (const mode of ["warm-then-cold", "fs-snapshot", "dump", "live"] as const)
      expect(openAhead(deps, paths(dir), unit(mode, data))).toBeUndefined();
    // the marker of another repository (same state dir, the connection marker now elsewhere)
    writeMarker(dir, { backend: "s3", location: "s3 other-bucket", connectedAt: "x" });
    expect(openAhead(deps, paths(dir), unit("cold", data))).toBeUndefined();
    const other = stateDir();
    noteGatePolicy(other, { ...deps, hostname: "other-host" }, true);
    expect(openAhead(deps, paths(other), unit("cold", data))).toBeUndefined();
    // a source that is not a directory (a file bind) is snapshotted in the window, never ahead
    const file = join(data, "file");
    writeFileSync(file, "x");
    const again = stateDir();
    noteGatePolicy(again, deps, true);
    expect(openAhead(deps, paths(again), unit("cold", file))).toBeUndefined();
    expect(openAhead(deps, paths(again), undefined)).toBeUndefined();
  });

  test("a unit a killed run may have left an unchecked warm pass of: nothing opened (it would be their base)", () => {
    const data = mkdtempSync(join(tmpdir(), "kd-ahead-data-"));
    const dir = stateDir();
    noteGatePolicy(dir, deps, true);
    markWarmPending(paths(dir).journalDir, "app");
    expect(openAhead(deps, paths(dir), unit("cold", data))).toBeUndefined();
    expect(isWarmPending(paths(dir).journalDir, "app")).toBe(true);
    expect(isWarmPending(paths(dir).journalDir, "other")).toBe(false);
    clearWarmPending(paths(dir).journalDir, "app");
    expect(isWarmPending(paths(dir).journalDir, "app")).toBe(false);
    clearWarmPending(paths(dir).journalDir, "app"); // not there: nothing to do
  });
});
