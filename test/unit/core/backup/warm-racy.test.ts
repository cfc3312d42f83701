import { describe, expect, test } from "bun:test";
import {
  findRacyFiles,
  kopiaTimeMs,
  MAX_RACY_DIRECTORIES,
  MAX_RACY_FILES,
  selectRacy,
} from "../../../../src/core/backup/warm-racy.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { fakeKopia } from "./fixtures.ts";

const threshold = Date.parse("2026-12-01T09:59:58.000Z");
/** A 32-hex object ID made from `n` (prefix "k" for directories). */
const oid = (n: number, prefix = "") => `${prefix}${n.toString(16).padStart(32, "0")}`;
const file = (name: string, mtime: string | undefined, obj = oid(name.length)) => ({
  name,
  type: "f",
  mode: "0644",
  size: 3,
  ...(mtime === undefined ? {} : { mtime }),
  obj,
});
const dirEntry = (name: string, maxTime: string, obj: string) => ({
  name,
  type: "d",
  mode: "0755",
  mtime: maxTime,
  obj,
  summ: { size: 3, files: 1, symlinks: 0, dirs: 1, maxTime, numFailed: 0 },
});
const dirObject = (entries: unknown[]) => ({ stream: "kopia:directory", entries, summary: {} });

describe("kopiaTimeMs", () => {
  test("reads kopia's RFC 3339 UTC times to the ms, floored; anything else is undefined", () => {
    expect(kopiaTimeMs("2026-12-01T09:59:58Z")).toBe(threshold);
    expect(kopiaTimeMs("2026-12-01T09:59:57.999999999Z")).toBe(threshold - 1);
    expect(kopiaTimeMs("2026-12-01T09:59:58.0000001Z")).toBe(threshold);
    expect(kopiaTimeMs("2026-12-01T09:59:58.2Z")).toBe(threshold + 200);
    for (const bad of ["", "2026-12-01 09:59:58Z", "2026-12-01T09:59:58+01:00", "2026-12-01T09:59:58.Z", "x"])
      expect(kopiaTimeMs(bad)).toBeUndefined();
  });
});

describe("selectRacy", () => {
  test("an entry is suspect from exactly the threshold on; an mtime kopia left out is the epoch", () => {
    const sel = selectRacy(
      dirObject([
        file("at", "2026-12-01T09:59:58Z", oid(1)),
        file("ns-before", "2026-12-01T09:59:57.999999999Z", oid(2)),
        file("after", "2026-12-01T10:00:03.5Z", oid(3)),
        file("epoch", undefined, oid(4)),
        { ...file("link", "2026-12-01T10:00:00Z", oid(5)), type: "s" },
      ]) as never,
      threshold,
    );
    expect(sel.ok && sel.suspects.map((e) => e.name)).toEqual(["at", "after", "link"]);
  });

  test("a directory is descended into only when its newest mtime is at or after the threshold", () => {
    const sel = selectRacy(
      dirObject([
        dirEntry("old", "2026-12-01T09:59:57.999Z", oid(1, "k")),
        dirEntry("new", "2026-12-01T09:59:58Z", oid(2, "k")),
      ]) as never,
      threshold,
    );
    expect(sel.ok && sel.descend.map((e) => e.name)).toEqual(["new"]);
    expect(sel.ok && sel.suspects).toEqual([]);
  });

  test("a malformed object ID, mtime or directory summary is a reason, not a guess", () => {
    const bad = (e: unknown) => selectRacy(dirObject([e]) as never, threshold);
    expect(bad(file("a", "2026-12-01T10:00:00Z", "--commit"))).toEqual({
      ok: false,
      reason: "kopia printed a malformed object ID",
    });
    expect(bad(file("a", "yesterday")).ok).toBe(false);
    expect(bad({ ...dirEntry("d", "2026-12-01T10:00:00Z", oid(1, "k")), summ: undefined }).ok).toBe(false);
  });
});

describe("findRacyFiles (strict fake runner)", () => {
  const kopiaOver = (queue: Expectation[]) => {
    const runner = new FakeRunner(queue);
    const kopia = fakeKopia(runner);
    return { runner, kopia };
  };
  const show = (obj: string, body: unknown): Expectation => ({
    argv: [
      "kopia",
      "--config-file",
      "/k.config",
      "show",
      obj,
      "--disable-file-logging",
      "--disable-content-log",
    ],
    stdout: typeof body === "string" ? body : JSON.stringify(body),
  });

  test("reads only the directories that hold something new, and collects the suspects' object IDs once", async () => {
    const root = oid(100, "k");
    const { runner, kopia } = kopiaOver([
      show(
        root,
        dirObject([
          dirEntry("hot", "2026-12-01T10:00:01Z", oid(101, "k")),
          dirEntry("cold", "2026-12-01T09:00:00Z", oid(102, "k")),
          file("fresh", "2026-12-01T10:00:02Z", oid(7)),
          file("stale", "2026-12-01T09:00:00Z", oid(8)),
        ]),
      ),
      show(
        oid(101, "k"),
        dirObject([file("a", "2026-12-01T10:00:01Z", oid(7)), file("b", "2026-12-01T09:00:00Z", oid(9))]),
      ),
    ]);
    const seen: string[] = [];
    const scan = await findRacyFiles(kopia, root, threshold, { onSuspect: (p) => seen.push(p) });
    expect(scan).toEqual({ ok: true, objectIds: [oid(7)], files: 2, directories: 2 });
    expect(seen).toEqual(["fresh", "hot/a"]);
    expect(runner.remaining).toBe(0);
  });

  test("output that is not a directory object, or a failed show, is a reason to fall back", async () => {
    const root = oid(1, "k");
    for (const body of ["not json", { stream: "kopia:directory" }, { entries: [] }]) {
      const { kopia } = kopiaOver([show(root, body)]);
      const scan = await findRacyFiles(kopia, root, threshold, {});
      expect(scan.ok).toBe(false);
    }
    const { kopia } = kopiaOver([{ ...show(root, ""), exitCode: 1, stderr: "object not found" }]);
    expect((await findRacyFiles(kopia, root, threshold, {})).ok).toBe(false);
  });

  test("more directories or files than the caps is a reason to fall back, before reading more", async () => {
    const root = oid(1, "k");
    const wide = Array.from({ length: MAX_RACY_DIRECTORIES }, (_, i) =>
      dirEntry(`d${i}`, "2026-12-01T10:00:00Z", oid(1000 + i, "k")),
    );
    const { runner, kopia } = kopiaOver([show(root, dirObject(wide))]);
    expect(await findRacyFiles(kopia, root, threshold, {})).toEqual({
      ok: false,
      reason: `changes in more than ${MAX_RACY_DIRECTORIES} directories`,
    });
    expect(runner.calls.length).toBe(1);

    const many = Array.from({ length: MAX_RACY_FILES + 1 }, (_, i) =>
      file(`f${i}`, "2026-12-01T10:00:00Z", oid(5000 + i)),
    );
    const { kopia: k2 } = kopiaOver([show(root, dirObject(many))]);
    expect(await findRacyFiles(k2, root, threshold, {})).toEqual({
      ok: false,
      reason: `more than ${MAX_RACY_FILES} files changed`,
    });
  });
});
