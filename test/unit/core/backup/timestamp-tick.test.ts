import { expect, test } from "bun:test";
import {
  COARSE_TICK_MS,
  startNotBefore,
  type TickIo,
  timestampTick,
} from "../../../../src/core/backup/timestamp-tick.ts";

const io = (o: { type?: number; ctimes: Record<string, bigint>; names?: string[] }): TickIo => ({
  fsType: () => o.type ?? 0xef53,
  ctimeNs: (p) => {
    const t = o.ctimes[p];
    if (t === undefined) throw new Error(`ENOENT ${p}`);
    return t;
  },
  firstNames: (p, n) => {
    if (!o.names) throw new Error(`ENOTDIR ${p}`);
    return o.names.slice(0, n);
  },
});
const s = (sec: number, ns = 0) => BigInt(sec) * 1_000_000_000n + BigInt(ns);

test("a sub-second ctime anywhere in the sample: fine timestamps, no wait", () => {
  const fine = io({ ctimes: { "/d": s(10), "/d/a": s(11), "/d/b": s(12, 4_000_000) }, names: ["a", "b"] });
  expect(timestampTick("/d", fine)).toBe(0);
});

test("only whole seconds (ext4 with 128-byte inodes), or FAT whatever its ctimes: the coarse tick", () => {
  const coarse = io({ ctimes: { "/d": s(10), "/d/a": s(11), "/d/b": s(12) }, names: ["a", "b"] });
  expect(timestampTick("/d", coarse)).toBe(COARSE_TICK_MS);
  const fat = io({ type: 0x4d44, ctimes: { "/d": s(10, 120_000_000) }, names: [] });
  expect(timestampTick("/d", fat)).toBe(COARSE_TICK_MS);
  // A single-file bind: the file itself is the sample.
  expect(timestampTick("/f", io({ ctimes: { "/f": s(7) } }))).toBe(COARSE_TICK_MS);
  // An empty directory: no file to race.
  expect(timestampTick("/e", io({ ctimes: { "/e": s(9) }, names: [] }))).toBe(0);
  // Nothing to look at (gone): nothing there to race.
  expect(timestampTick("/gone", io({ ctimes: {} }))).toBe(0);
});

test("the start waits for the first tick boundary after the stop, plus the coarse clock's lag", () => {
  expect(startNotBefore(1_000_500, 2_000)).toBe(1_002_010);
  expect(startNotBefore(1_001_999, 2_000)).toBe(1_002_010);
  expect(startNotBefore(1_002_000, 2_000)).toBe(1_004_010);
  expect(startNotBefore(1_000_500, 0)).toBe(1_000_500);
});
