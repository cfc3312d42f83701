import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathSize } from "../../../../src/core/discovery/sizes.ts";

const dir = mkdtempSync(join(tmpdir(), "kd-sizes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("apparent size of a tree; symlinks not followed; a file; a missing path", async () => {
  mkdirSync(join(dir, "a/b/c"), { recursive: true });
  writeFileSync(join(dir, "a/one"), "x".repeat(1000));
  writeFileSync(join(dir, "a/b/c/two"), "y".repeat(2345));
  for (let i = 0; i < 50; i++) writeFileSync(join(dir, `a/b/f${i}`), "z".repeat(10));
  symlinkSync("/usr", join(dir, "a/link"));
  const r = await pathSize(join(dir, "a"));
  expect(r.truncated).toBe(false);
  expect(r.bytes).toBe(1000 + 2345 + 500 + "/usr".length);
  expect(await pathSize(join(dir, "a/one"))).toEqual({ bytes: 1000, truncated: false });
  expect(await pathSize(join(dir, "nope"))).toEqual({ bytes: 0, truncated: false });
});

test("bounded: stops at maxEntries and says so", async () => {
  const r = await pathSize(join(dir, "a"), { maxEntries: 3 });
  expect(r.truncated).toBe(true);
});
