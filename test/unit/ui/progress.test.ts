import { describe, expect, test } from "bun:test";
import { createConsola } from "consola";
import type { SnapshotProgress } from "../../../src/core/kopia/progress.ts";
import { createProgressReporter, progressLine } from "../../../src/ui/progress.ts";

const sample = (hashedBytes: number, extra: Partial<SnapshotProgress> = {}): SnapshotProgress => ({
  hashing: 1,
  hashedFiles: 3,
  hashedBytes,
  cachedFiles: 2,
  cachedBytes: 2048,
  uploadedBytes: 1024,
  fatalErrors: 0,
  ignoredErrors: 0,
  ...extra,
});

function harness(isTTY: boolean, level = 3) {
  let clock = 0;
  const written: string[] = [];
  const logged: string[] = [];
  const log = createConsola({ level, reporters: [{ log: (o) => logged.push(o.args.join(" ")) }] });
  const progress = createProgressReporter({
    log,
    out: { isTTY, columns: 200, write: (t) => written.push(t) },
    now: () => clock,
    plainEveryMs: 10_000,
  });
  return { progress, written, logged, tick: (ms: number) => (clock += ms) };
}

describe("progress line", () => {
  test("bytes and files hashed and cached, uploaded, percent, elapsed per source and unit", () => {
    // kopia's own percentage (of the whole filesystem with the rough estimator) is never shown
    expect(progressLine("app volume data", sample(3 * 1024 * 1024, { percent: 3 }), 1800, 5200)).toBe(
      "app volume data: 3.0 MiB hashed (3 files), 2.0 KiB cached (2 files), 1.0 KiB uploaded, 1.8s (unit 5.2s)",
    );
    // against the last snapshot's size: (1000 + 2048) of 10_000 bytes
    expect(progressLine("v", sample(1000), 0, 0, 10_000)).toContain(" uploaded, ~30%, ");
    expect(progressLine("v", sample(9000), 0, 0, 10_000)).not.toContain("%");
    expect(progressLine("app bind /srv", undefined, 0, 100)).toBe(
      "app bind /srv: starting, 0.0s (unit 0.1s)",
    );
    expect(progressLine("x", sample(0, { fatalErrors: 2 }), 0, 0)).toContain(", 2 errors,");
  });
});

describe("progress reporter", () => {
  test("terminal: one line per source redrawn in place, left standing when done; nothing logged", () => {
    const h = harness(true);
    const unit = h.progress.unit("app");
    const a = unit.source("volume data");
    h.tick(500);
    a.update(sample(1000));
    a.update(sample(5000));
    a.finish("ok");
    const b = unit.source("bind /srv");
    b.finish("failed");
    expect(h.logged).toEqual([]);
    expect(a.standing).toBe(true);
    const screen = h.written.join("");
    // every draw starts by returning to the line start and clearing it; a finished source ends with \n
    expect(h.written.every((w) => w.startsWith("\r\x1b[2K"))).toBe(true);
    expect(screen.split("\n")).toHaveLength(3);
    expect(h.written.at(-3)).toContain("app volume data: 4.9 KiB hashed (3 files)");
    expect(h.written.at(-3)?.endsWith("\n")).toBe(true);
    expect(h.written.at(-1)).toContain("app bind /srv: starting");
    expect(h.written.at(-1)).toContain("— failed\n");
  });

  test("terminal: sources side by side show one after the other, each with its own numbers and time", () => {
    const h = harness(true);
    const unit = h.progress.unit("app");
    const a = unit.source("v0");
    const b = unit.source("v1");
    const c = unit.source("v2");
    b.update(sample(2048));
    h.tick(1000);
    c.update(sample(3072));
    c.finish("ok"); // done before the ones drawn above it
    expect(h.written.join("")).not.toContain("app v1");
    expect(h.written.join("")).not.toContain("app v2");
    h.tick(1000);
    a.finish("ok");
    b.update(sample(4096));
    b.finish("failed");
    const lines = h.written.join("").split("\n").filter(Boolean);
    const last = (line: string) => line.split("\r\x1b[2K").at(-1) ?? "";
    expect(lines.map(last)).toEqual([
      "app v0: starting, 2.0s (unit 2.0s)",
      "app v1: 4.0 KiB hashed (3 files), 2.0 KiB cached (2 files), 1.0 KiB uploaded, 2.0s (unit 2.0s) — failed",
      "app v2: 3.0 KiB hashed (3 files), 2.0 KiB cached (2 files), 1.0 KiB uploaded, 1.0s (unit 1.0s)",
    ]);
  });

  test("terminal: a percentage against the last snapshot's size while running, none when done", () => {
    const h = harness(true);
    const s = h.progress.unit("app").source("volume data", { expectedBytes: 20_000 });
    s.update(sample(3000));
    expect(h.written.at(-1)).toContain(", ~25%, ");
    s.update(sample(17_000));
    s.finish("ok");
    expect(h.written.at(-1)).not.toContain("%");
  });

  test("terminal: the line is cut to the terminal width (a wrapped line cannot be redrawn)", () => {
    const written: string[] = [];
    const p = createProgressReporter({
      log: createConsola({ level: 3, reporters: [] }),
      out: { isTTY: true, columns: 30, write: (t) => written.push(t) },
    });
    p.unit("a-very-long-unit-name").source("volume with-a-long-name").update(sample(1));
    for (const w of written) expect(w.replace("\r\x1b[2K", "").length).toBeLessThanOrEqual(29);
  });

  test("no terminal: a plain log line at most every N seconds, and a closing one; never a redraw", () => {
    const h = harness(false);
    const s = h.progress.unit("app").source("volume data");
    s.update(sample(1));
    h.tick(4000);
    s.update(sample(2));
    expect(h.logged).toEqual([]);
    h.tick(7000);
    s.update(sample(3));
    s.update(sample(4));
    h.tick(9000);
    s.update(sample(5));
    h.tick(2000);
    s.update(sample(6));
    s.finish("ok");
    expect(s.standing).toBe(false);
    expect(h.written).toEqual([]);
    expect(h.logged).toHaveLength(3);
    expect(h.logged[0]).toContain("3 B hashed");
    expect(h.logged[1]).toContain("6 B hashed");
    expect(h.logged[2]).toContain("6 B hashed");
  });

  test("no terminal: a short source logs nothing of its own (the done line says it all)", () => {
    const h = harness(false);
    const s = h.progress.unit("app").source("volume data");
    s.update(sample(1));
    s.finish("ok");
    expect(h.logged).toEqual([]);
  });

  test("--verbose on a terminal: plain log lines (debug lines would break a redrawn one)", () => {
    const h = harness(true, 4);
    const s = h.progress.unit("app").source("volume data");
    s.update(sample(1));
    h.tick(10_000);
    s.update(sample(2));
    s.finish("ok");
    expect(s.standing).toBe(false);
    expect(h.written).toEqual([]);
    expect(h.logged).toHaveLength(2);
  });

  test("--quiet: no progress at all, even on a terminal", () => {
    const h = harness(true, 1);
    const s = h.progress.unit("app").source("volume data");
    s.update(sample(1));
    s.finish("ok");
    expect(h.written).toEqual([]);
    expect(h.logged).toEqual([]);
  });
});
