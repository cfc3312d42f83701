import { describe, expect, test } from "bun:test";
import { UnitJsonSchema } from "../../../../src/core/snapshot/unit-json.ts";

// unit.json is read back from an untrusted snapshot: a recorded mode, owner or mtime becomes a chmod,
// chown and utimes on the host. What fails the checks is ignored (the file is written as a recipe
// without them writes it), never applied.
const base = { unit: "shop", type: "compose" };
const good = { stored: "project/cfg.ini", mode: 0o640, uid: 1000, gid: 1000, mtimeMs: 1_700_000_000_123 };
const read = (fileAttributes: unknown) => UnitJsonSchema.parse({ ...base, fileAttributes }).fileAttributes;

describe("unit.json fileAttributes", () => {
  test("an older recipe has none and loads as before", () => {
    expect(UnitJsonSchema.parse(base).fileAttributes).toEqual([]);
  });

  test("a sound entry is kept, for a compose and a project file", () => {
    const compose = { ...good, stored: "compose/01-docker-compose.yml", mode: 0o644 };
    expect(read([good, compose])).toEqual([good, compose]);
  });

  test.each([
    ["a set-uid bit", { mode: 0o4755 }],
    ["a sticky bit", { mode: 0o1777 }],
    ["a negative mode", { mode: -1 }],
    ["a fractional mode", { mode: 0.5 }],
    ["a mode as text", { mode: "0644" }],
    ["uid -1 (chown's 'leave it')", { uid: -1 }],
    ["uid 2^32-1", { gid: 2 ** 32 - 1 }],
    ["a path outside the recipe's files", { stored: "../etc/passwd" }],
    ["a nested project path", { stored: "project/a/b.ini" }],
    ["a non-finite mtime", { mtimeMs: Number.POSITIVE_INFINITY }],
    ["an mtime past 9999", { mtimeMs: 1e15 }],
    ["a missing uid", { uid: undefined }],
  ])("%s: the entry is ignored, the rest kept", (_what, bad) => {
    const other = { ...good, stored: "project/.env" };
    expect(read([{ ...good, ...bad }, other])).toEqual([other]);
  });

  test("not a list, or a list of junk: nothing applied, the recipe still loads", () => {
    expect(read("0777")).toEqual([]);
    expect(read({ "project/cfg.ini": good })).toEqual([]);
    expect(read([null, 1, "x"])).toEqual([]);
  });

  test("a file named twice: its first entry counts", () => {
    expect(read([good, { ...good, mode: 0o777 }])).toEqual([good]);
  });
});
