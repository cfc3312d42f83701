import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SnapshotManifest } from "../../../../src/core/kopia/parse.ts";
import {
  checkNothingVanished,
  forgetDeleted,
  ledgerFile,
  ledgerKeys,
  readLedger,
  vanishedKeys,
  writeLedger,
} from "../../../../src/core/repository/snapshot-ledger.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { kopiaOn } from "../../../helpers/kopia.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const OWNER = { host: "h", userName: "kopi-docka" };

/** A volume snapshot of `unit@backup` as kopia lists it. */
function volume(
  id: string,
  unit: string,
  backup: string,
  o: Partial<SnapshotManifest> = {},
): SnapshotManifest {
  return {
    id,
    source: { host: "h", userName: "kopi-docka", path: `/kopi-docka/${unit}/volumes/data` },
    startTime: `2026-12-0${backup.slice(-1)}T02:00:00Z`,
    tags: { "tag:unit": unit, "tag:backup_id": backup, "tag:type": "volume", "tag:volume": "data" },
    ...o,
  };
}

describe("ledger keys", () => {
  test("this identity's complete point snapshots only; a pin (new manifest id) keeps the key", () => {
    const mine = volume("k1", "app", "b1");
    const keys = ledgerKeys(
      [
        mine,
        { ...mine, id: "k1-pinned", pins: ["kopi-docka"] },
        volume("k2", "app", "b2", { incomplete: "checkpoint" }),
        volume("k3", "app", "b3", { source: { ...mine.source, host: "other" } }),
        volume("k4", "app", "b4", { tags: { "tag:kopi-docka-warm": "true", "tag:unit": "app" } }),
        volume("k5", "../x", "b5"),
      ],
      OWNER,
    );
    expect(keys).toEqual(["app@b1 volume:data 2026-12-01T02:00:00Z"]);
  });

  test("vanished: known keys not listed now; new ones are no concern", () => {
    expect(vanishedKeys(["a", "b", "c"], ["a", "c", "d"])).toEqual(["b"]);
    expect(vanishedKeys([], ["a"])).toEqual([]);
  });
});

function host(listed: SnapshotManifest[], more: number = 0) {
  const t = tempDir("kdt-ledger-unit-");
  dirs.push(t);
  const list = {
    argv: (a: readonly string[]) => a[3] === "snapshot" && a[4] === "list",
    stdout: JSON.stringify(listed),
  };
  const runner = new FakeRunner(Array.from({ length: 1 + more }, () => list));
  const kopia = kopiaOn(runner, t.path);
  return { stateDir: join(t.path, "state"), kopia, runner };
}

const check = (h: ReturnType<typeof host>, accept = false) =>
  checkNothingVanished(h.kopia, h.stateDir, { untouched: "nothing was done", accept });

describe("checkNothingVanished", () => {
  const b1 = volume("k1", "app", "b1");
  const b2 = volume("k2", "app", "b2");

  test("no ledger yet: passes and records what is there, 0600", async () => {
    const h = host([b1, b2]);
    await check(h);
    expect(readLedger(h.stateDir, OWNER)).toHaveLength(2);
    expect(statSync(ledgerFile(h.stateDir)).mode & 0o777).toBe(0o600);
  });

  test("a snapshot of the ledger gone, not by kopi-docka: refused naming the point; the ledger kept", async () => {
    const first = host([b1, b2]);
    await check(first);
    const h = { ...host([b1]), stateDir: first.stateDir };
    const e = await check(h).catch((x) => x);
    expect(e.message).toBe(
      "1 snapshot(s) of 1 restore point(s) (app@b2) were in the repository at the last check and are gone, not deleted by kopi-docka (an index blob lost?); nothing was done",
    );
    expect(e.hint).toContain("index recover --commit");
    expect(e.hint).toContain("--accept-deleted");
    expect(readLedger(first.stateDir, OWNER)).toHaveLength(2);
    // Said to be deleted on purpose: recorded as it is now.
    await check({ ...host([b1]), stateDir: first.stateDir }, true);
    expect(readLedger(first.stateDir, OWNER)).toEqual(["app@b1 volume:data 2026-12-01T02:00:00Z"]);
  });

  test("deleted by kopi-docka (forgotten first): passes", async () => {
    const first = host([b1, b2]);
    await check(first);
    forgetDeleted(first.stateDir, [b1, b2], ["k2"], OWNER);
    expect(readLedger(first.stateDir, OWNER)).toHaveLength(1);
    await check({ ...host([b1]), stateDir: first.stateDir });
  });

  test("new snapshots since (a backup): passes and adds them", async () => {
    const first = host([b1]);
    await check(first);
    const h = { ...host([b1, b2]), stateDir: first.stateDir };
    await check(h);
    expect(readLedger(first.stateDir, OWNER)).toHaveLength(2);
  });

  test("a ledger kept under another identity (the hostname changed): started anew, nothing refused", async () => {
    const first = host([b1, b2]);
    await check(first);
    const other = { host: "renamed", userName: "kopi-docka" };
    expect(readLedger(first.stateDir, other)).toBeUndefined();
    writeLedger(first.stateDir, other, ["app@b9 volume:data 2026-12-09T02:00:00Z"]);
    await check({ ...host([b1]), stateDir: first.stateDir });
    expect(readLedger(first.stateDir, OWNER)).toHaveLength(1);
  });

  test("an unreadable ledger fails closed; accepting rewrites it", async () => {
    const h = host([b1], 1);
    await check(h);
    writeFileSync(ledgerFile(h.stateDir), "{broken");
    const e = await check(h).catch((x) => x);
    expect(e.message).toContain("snapshot-ledger.json is unreadable");
    await check(h, true);
    expect(JSON.parse(readFileSync(ledgerFile(h.stateDir), "utf8")).snapshots).toHaveLength(1);
  });

  test("forgetting with an unreadable ledger leaves it for the next check to refuse (a delete is not blocked)", () => {
    const h = host([]);
    writeLedger(h.stateDir, OWNER, []);
    writeFileSync(ledgerFile(h.stateDir), "{broken");
    forgetDeleted(h.stateDir, [b1], ["k1"], OWNER);
    expect(readFileSync(ledgerFile(h.stateDir), "utf8")).toBe("{broken");
  });

  test("forgetting without a ledger writes none", () => {
    const h = host([]);
    forgetDeleted(h.stateDir, [b1], ["k1"], OWNER);
    expect(() => statSync(ledgerFile(h.stateDir))).toThrow();
  });
});
