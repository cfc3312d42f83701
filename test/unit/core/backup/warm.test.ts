import { afterEach, describe, expect, test } from "bun:test";
import {
  dropPendingWarm,
  dropWarmBases,
  fixUnusable,
  warmPass,
  warmUnusable,
} from "../../../../src/core/backup/warm.ts";
import { isWarmPending, markWarmPending } from "../../../../src/core/backup/warm-pending.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { backupDeps, config, volumeSource } from "./fixtures.ts";

const ROOT = `k${"1".repeat(32)}`;
const manifest = (o: {
  maxTime?: string;
  incomplete?: string;
  obj?: string;
  files?: number;
  id?: string;
}) => ({
  id: o.id ?? "a".repeat(32),
  source: { host: "h", userName: "kopi-docka", path: "/kopi-docka/u/volumes/v" },
  startTime: "2026-12-01T10:00:00.123456789Z",
  ...(o.incomplete ? { incomplete: o.incomplete } : {}),
  rootEntry: {
    obj: o.obj ?? ROOT,
    summ: { files: o.files ?? 10, symlinks: 0, ...(o.maxTime === undefined ? {} : { maxTime: o.maxTime }) },
  },
  tags: { "tag:kopi_docka_warm": "true", "tag:unit": "u", "tag:type": "volume" },
});

describe("warmUnusable and fixUnusable (pure)", () => {
  test("a warm snapshot can be a base only when complete, with a root directory and a newest mtime", () => {
    const t = "2026-12-01T09:59:57Z";
    expect(warmUnusable(manifest({ maxTime: t }))).toBeUndefined();
    // A newest mtime inside the racy margin no longer makes it unusable: its racy files are removed.
    expect(warmUnusable(manifest({ maxTime: "2026-12-01T10:00:05Z" }))).toBeUndefined();
    expect(warmUnusable(manifest({ maxTime: t, incomplete: "canceled" }))).toBe(
      "saved incomplete (canceled)",
    );
    expect(warmUnusable(manifest({ maxTime: t, incomplete: "checkpoint" }))).toBe(
      "saved incomplete (checkpoint)",
    );
    expect(warmUnusable(manifest({}))).toBe("no newest mtime recorded");
    expect(warmUnusable(manifest({ maxTime: t, obj: "-x" }))).toBe("no root directory recorded");
  });

  test("kopia's replacement must be exactly one, new, complete, tagged alike, and without the files", () => {
    const before = manifest({ files: 10 });
    const after = (o: Parameters<typeof manifest>[0]) => manifest({ id: "b".repeat(32), files: 7, ...o });
    expect(fixUnusable(before, [after({})], 3)).toBeUndefined();
    expect(fixUnusable(before, [], 3)).toBe("0 warm snapshots after removing the changed files");
    expect(fixUnusable(before, [after({}), after({ id: "c".repeat(32) })], 3)).toMatch(/^2 warm/);
    expect(fixUnusable(before, [before], 3)).toBe("kopia did not replace it");
    expect(fixUnusable(before, [after({ incomplete: "canceled" })], 3)).toBe(
      "saved incomplete by the removal",
    );
    expect(fixUnusable(before, [{ ...after({}), tags: { "tag:unit": "u" } }], 3)).toBe("its tags changed");
    expect(fixUnusable(before, [after({ files: 8 })], 3)).toBe("the changed files are still in it");
  });
});

describe("warmPass (strict fake runner)", () => {
  const dirs: { remove: () => void }[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });
  const source = volumeSource;
  const NEW = () => new Date(Date.now() + 60_000).toISOString();
  const OLD = "2020-01-01T00:00:00Z";
  const FRESH = "f".repeat(32);
  const is =
    (...words: string[]) =>
    (a: readonly string[]) =>
      words.every((w, i) => a[3 + i] === w);

  function setup(queue: Expectation[]) {
    const dir = tempDir("kd-warm-");
    dirs.push(dir);
    const runner = new FakeRunner(queue);
    const d = backupDeps({ config: config(), runner, docker: new FakeDocker(), dir: dir.path });
    const infos: string[] = [];
    d.log.info = ((m: unknown) => infos.push(String(m))) as unknown as typeof d.log.info;
    const go = () =>
      warmPass(d, [source], { unit: "u", hostname: "h", signal: new AbortController().signal });
    return { runner, d, infos, go };
  }
  const list = (ms: unknown[]): Expectation => ({
    argv: is("snapshot", "list", "--json", "--all"),
    stdout: JSON.stringify(ms),
  });
  const create = (m: unknown): Expectation => ({
    argv: is("snapshot", "create", source.path),
    stdout: `${JSON.stringify(m)}\n`,
  });
  const show = (entries: unknown[]): Expectation => ({
    argv: is("show", ROOT),
    stdout: JSON.stringify({ stream: "kopia:directory", entries }),
  });
  const entries = () => [
    { name: "fresh", type: "f", mtime: NEW(), obj: FRESH },
    { name: "old", type: "f", mtime: OLD, obj: "e".repeat(32) },
  ];
  const warm = () => manifest({ maxTime: NEW(), files: 2 });
  const B = "b".repeat(32);

  test("files written while it read are removed from the warm snapshot, which is kept", async () => {
    const fixed = manifest({ id: B, files: 1, obj: `k${"2".repeat(32)}` });
    const { runner, d, infos, go } = setup([
      list([]),
      create(warm()),
      show(entries()),
      {
        argv: is("snapshot", "fix", "remove-files", "--manifest-id", "a".repeat(32), "--object-id", FRESH),
      },
      list([fixed]),
    ]);
    expect(await go()).toEqual({ unchecked: [], bases: [B] });
    expect(runner.remaining).toBe(0);
    expect(infos).toEqual([
      "u: warm pass of v: 1 files changed while it read them; the cold pass re-reads them",
    ]);
    expect(d.lifecycle.pending()).toEqual([]);
  });

  test("a warm pass long enough for kopia's checkpoints: they hold the removed files and are deleted too", async () => {
    const fixed = manifest({ id: B, files: 1, obj: `k${"2".repeat(32)}` });
    // kopia's checkpoint: same start time, incomplete "checkpoint", no tags.
    const checkpoint = { ...manifest({ incomplete: "checkpoint", id: "c".repeat(32), files: 2 }), tags: {} };
    const { runner, go } = setup([
      list([]),
      create(warm()),
      show(entries()),
      {
        argv: is("snapshot", "fix", "remove-files", "--manifest-id", "a".repeat(32), "--object-id", FRESH),
      },
      list([fixed, checkpoint]),
      { argv: is("snapshot", "delete", "c".repeat(32), "--delete") },
    ]);
    expect(await go()).toEqual({ unchecked: [], bases: [B] });
    expect(runner.remaining).toBe(0);
  });

  test("checkpoints a killed warm pass left, untagged, are deleted with its warm snapshots", async () => {
    const leftWarm = manifest({ incomplete: "canceled", id: "d".repeat(32) });
    const checkpoint = { ...manifest({ incomplete: "checkpoint", id: "c".repeat(32) }), tags: {} };
    const complete = { ...manifest({ id: "e".repeat(32) }), tags: { "tag:unit": "u" } };
    const { runner, d } = setup([
      list([leftWarm, checkpoint, complete]),
      { argv: is("snapshot", "delete", "d".repeat(32), "c".repeat(32), "--delete") },
    ]);
    markWarmPending(d.journal.dir, "u");
    const o = { unit: "u", hostname: "h", signal: new AbortController().signal };
    expect(await dropPendingWarm(d, [source], o)).toBe(true);
    expect(runner.remaining).toBe(0);
  });

  test("the unit is marked before its warm snapshot starts, and unmarked once the checked one is deleted", async () => {
    let markedDuringCreate = false;
    const { runner, d, go } = setup([
      list([]),
      {
        ...create(manifest({ maxTime: OLD })),
        check: () => {
          markedDuringCreate = isWarmPending(d.journal.dir, "u");
        },
      },
      { argv: is("snapshot", "delete", "a".repeat(32), "--delete"), exitCode: 1, stderr: "unreachable" },
      { argv: is("snapshot", "delete", "a".repeat(32), "--delete") },
    ]);
    const { bases } = await go();
    expect(bases).toEqual(["a".repeat(32)]);
    expect(markedDuringCreate).toBe(true);
    // The base of the cold pass: until it is deleted, the mark stays (a later run deletes it first).
    expect(isWarmPending(d.journal.dir, "u")).toBe(true);
    await dropWarmBases(d, { bases, unchecked: [] }, "u");
    expect(isWarmPending(d.journal.dir, "u")).toBe(true);
    await dropWarmBases(d, { bases, unchecked: [] }, "u");
    expect(isWarmPending(d.journal.dir, "u")).toBe(false);
    expect(runner.remaining).toBe(0);
  });

  test("an unchecked warm snapshot left by this run keeps the mark when the checked bases go", async () => {
    const { runner, d } = setup([{ argv: is("snapshot", "delete", B, "--delete") }]);
    markWarmPending(d.journal.dir, "u");
    // Before: the mark went with the bases, and a later run in another mode never deleted the
    // unchecked one, which its cold snapshot then took as a base.
    await dropWarmBases(d, { bases: [B], unchecked: ["w"] }, "u");
    expect(isWarmPending(d.journal.dir, "u")).toBe(true);
    expect(runner.remaining).toBe(0);
  });

  test("a killed run's leftover of a source this run makes no warm pass of is deleted before the mark goes", async () => {
    const other = {
      ...source,
      label: "w",
      path: "/w",
      logicalPath: "/kopi-docka/u/volumes/w",
    } as typeof source;
    const left = {
      ...manifest({ id: "c".repeat(32), maxTime: OLD }),
      source: { ...manifest({}).source, path: other.logicalPath },
    };
    const { runner, d } = setup([
      list([left]),
      { argv: is("snapshot", "delete", left.id, "--delete") },
      create(manifest({ maxTime: OLD })),
    ]);
    markWarmPending(d.journal.dir, "u");
    const o = { unit: "u", hostname: "h", signal: new AbortController().signal, every: [source, other] };
    expect(await warmPass(d, [source], o)).toEqual({ unchecked: [], bases: ["a".repeat(32)] });
    expect(runner.remaining).toBe(0);
  });

  test("a unit in another mode: nothing listed without the mark; with it, leftovers deleted, mark gone", async () => {
    const o = { unit: "u", hostname: "h", signal: new AbortController().signal };
    const none = setup([]);
    expect(await dropPendingWarm(none.d, [source], o)).toBe(true);
    expect(none.runner.remaining).toBe(0);
    const left = manifest({ incomplete: "canceled", maxTime: OLD });
    const { runner, d, infos } = setup([
      list([left]),
      { argv: is("snapshot", "delete", left.id, "--delete") },
    ]);
    markWarmPending(d.journal.dir, "u");
    expect(await dropPendingWarm(d, [source], o)).toBe(true);
    expect(runner.remaining).toBe(0);
    expect(infos).toEqual(["u: warm passes an interrupted run left unchecked were deleted"]);
    expect(isWarmPending(d.journal.dir, "u")).toBe(false);
  });

  test("a mark whose leftovers cannot be listed: false (nothing may be snapshotted), the mark kept", async () => {
    const o = { unit: "u", hostname: "h", signal: new AbortController().signal };
    const { runner, d } = setup([
      { argv: is("snapshot", "list", "--json", "--all"), exitCode: 1, stderr: "repository unreachable" },
    ]);
    markWarmPending(d.journal.dir, "u");
    expect(await dropPendingWarm(d, [source], o)).toBe(false);
    expect(runner.remaining).toBe(0);
    expect(isWarmPending(d.journal.dir, "u")).toBe(true);
  });

  test("nothing newer than the margin: kept as it is, no walk", async () => {
    const { runner, infos, go } = setup([list([]), create(manifest({ maxTime: OLD }))]);
    expect(await go()).toEqual({ unchecked: [], bases: ["a".repeat(32)] });
    expect(runner.remaining).toBe(0);
    expect(infos).toEqual([]);
  });

  test("a malformed directory object: the warm snapshot is deleted (cold pass from the last cold)", async () => {
    const m = warm();
    const { runner, infos, go } = setup([
      list([]),
      create(m),
      {
        argv: is("show", ROOT),
        stdout: '{"stream":"kopia:directory","entries":[{"name":"secret-name","type":"f","obj":7}]}',
      },
      list([m]),
      { argv: is("snapshot", "delete", m.id, "--delete") },
    ]);
    expect(await go()).toEqual({ unchecked: [], bases: [] });
    expect(runner.remaining).toBe(0);
    expect(infos).toEqual([
      `u: warm pass of v not used as the base (kopia show ${ROOT} printed no directory object (1 problem(s), first at "entries.0.obj": invalid_type))`,
    ]);
  });

  test("a replacement saved incomplete is deleted, and so is every warm one of the source", async () => {
    const fixed = manifest({ id: B, files: 1, incomplete: "canceled" });
    const { runner, infos, go } = setup([
      list([]),
      create(warm()),
      show(entries()),
      { argv: is("snapshot", "fix", "remove-files") },
      list([fixed]),
      { argv: is("snapshot", "delete", fixed.id, "--delete") },
      list([]),
    ]);
    expect(await go()).toEqual({ unchecked: [], bases: [] });
    expect(runner.remaining).toBe(0);
    expect(infos).toEqual(["u: warm pass of v not used as the base (saved incomplete by the removal)"]);
  });

  test("a failed fix leaves no warm snapshot behind, whatever kopia saved before it failed", async () => {
    const m = warm();
    const half = manifest({ id: B });
    const { runner, d, go } = setup([
      list([]),
      create(m),
      show(entries()),
      { argv: is("snapshot", "fix", "remove-files"), exitCode: 1, stderr: "error deleting old manifest" },
      list([m, half]),
      { argv: is("snapshot", "delete", m.id, half.id, "--delete") },
    ]);
    expect(await go()).toEqual({ unchecked: [], bases: [] });
    expect(runner.remaining).toBe(0);
    expect(d.lifecycle.pending()).toEqual([]);
  });

  test("a signal during the walk: the compensation deletes the unchecked warm snapshot", async () => {
    const m = warm();
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const { runner, d } = setup([
      list([]),
      create(m),
      { argv: is("show", ROOT), check: () => release(), exitCode: 1, stderr: "killed" },
      list([m]),
      { argv: is("snapshot", "delete", m.id, "--delete") },
    ]);
    const pass = warmPass(d, [source], { unit: "u", hostname: "h", signal: d.lifecycle.signal });
    await held;
    // The signal path runs the pending compensation; the normal path's own call shares it.
    const pending = d.lifecycle.pending().map((c) => c.name);
    expect(pending).toEqual([
      "remove the unchecked warm pass of v",
      expect.stringMatching(/kopi-docka-warm-/),
    ]);
    await Promise.all([d.lifecycle.onSignal("SIGTERM"), pass]);
    expect(runner.remaining).toBe(0);
  });
});
