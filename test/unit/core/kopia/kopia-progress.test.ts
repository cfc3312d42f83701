import { describe, expect, test } from "bun:test";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { readLines } from "../../../../src/core/process/lines.ts";
import type { Runner, RunOptions, RunResult } from "../../../../src/core/process/runner.ts";

/** A runner that answers one call: feeds `stderrLines` to onStderrLine, records argv and options. */
function scripted(stderrLines: string[], out: { stdout?: string; exitCode?: number } = {}) {
  const calls: { argv: readonly string[]; options: RunOptions }[] = [];
  const runner: Runner = {
    async run(argv, options = {}) {
      calls.push({ argv, options });
      for (const l of stderrLines) options.onStderrLine?.(l);
      const r: RunResult = {
        argv,
        exitCode: out.exitCode ?? 0,
        signal: null,
        stdout: out.stdout ?? "",
        stderr: `${stderrLines.join("\n")}\n`,
        durationMs: 1,
        timedOut: false,
        aborted: false,
      };
      return r;
    },
  };
  const kopia = createKopia(runner, {
    configFile: "/x/repository.config",
    cacheDir: "/x/cache",
    logDir: "/x/logs",
    password: () => "pw",
    hostname: "h",
    username: "kopi-docka",
  });
  return { kopia, calls };
}

const MANIFEST = JSON.stringify({
  id: "m1",
  source: { host: "h", userName: "kopi-docka", path: "/p" },
  startTime: "2026-11-30T00:00:00Z",
  rootEntry: { summ: { size: 65_000_000, files: 51 } },
});
const PROGRESS = [
  " | 1 hashing, 0 hashed (65.5 KB), 0 cached (0 B), uploaded 0 B, estimating...",
  " / 1 hashing, 49 hashed (30.3 MB), 0 cached (0 B), uploaded 23.4 MB, estimating...",
];

describe("kopia onProgress", () => {
  test("without onProgress the argv keeps --no-progress and lines are not split at \\r", async () => {
    const { kopia, calls } = scripted([], { stdout: MANIFEST });
    await kopia.snapshotCreateResult("/p");
    expect(calls[0]?.argv).toContain("--no-progress");
    expect(calls[0]?.argv).not.toContain("--progress");
    expect(calls[0]?.argv.join(" ")).not.toContain("estimation");
    expect(calls[0]?.options.splitCarriageReturn).toBeUndefined();
  });

  test("snapshot create: --progress, redraws parsed to onProgress, other lines to onStderrLine", async () => {
    const { kopia, calls } = scripted(["Snapshotting kopi-docka@h:/p ...", ...PROGRESS], {
      stdout: MANIFEST,
    });
    const seen: number[] = [];
    const other: string[] = [];
    const r = await kopia.snapshotCreateResult("/p", {
      onProgress: (p) => seen.push(p.hashedBytes),
      onStderrLine: (l) => other.push(l),
    });
    expect(calls[0]?.argv).toContain("--progress");
    // no second walk of the source for kopia's size estimate
    expect(calls[0]?.argv).toContain("--progress-estimation-type=rough");
    expect(calls[0]?.argv).not.toContain("--no-progress");
    expect(calls[0]?.options.splitCarriageReturn).toBe(true);
    expect(seen).toEqual([65_500, 30_300_000]);
    expect(other).toEqual(["Snapshotting kopi-docka@h:/p ..."]);
    expect(r.manifest?.rootEntry?.summ?.size).toBe(65_000_000);
  });

  test("a failed snapshot's stderr tail names the error, not the progress redraws", async () => {
    const { kopia } = scripted([...PROGRESS, "upload error: no space left on device"], { exitCode: 1 });
    const r = await kopia.snapshotCreateResult("/p", { onProgress: () => {} });
    expect(r.exitCode).toBe(1);
    expect(r.stderrTail).toBe("upload error: no space left on device");
  });

  test("snapshot restore: --progress and parsed redraws; a failure still throws", async () => {
    const ok = scripted(["Restoring to local filesystem (/t) ...", "Processed 51 (37.4 MB) of 51 (65 MB)."]);
    const seen: number[] = [];
    await ok.kopia.snapshotRestore("m1", "/t", { onProgress: (p) => seen.push(p.processedBytes) });
    expect(ok.calls[0]?.argv).toContain("--progress");
    expect(seen).toEqual([37_400_000]);

    const plain = scripted([]);
    await plain.kopia.snapshotRestore("m1", "/t");
    expect(plain.calls[0]?.argv).toContain("--no-progress");

    const bad = scripted(["Processed 1 (1 MB) of 51 (65 MB).", "unable to open snapshot"], { exitCode: 1 });
    const err = await bad.kopia.snapshotRestore("m1", "/t", { onProgress: () => {} }).catch((e) => e);
    expect(String(err.message)).toContain("unable to open snapshot");
    expect(String(err.message)).not.toContain("Processed");
    expect(err).toBeInstanceOf(Error);
  });
});

// kopia 0.23.1 prints a restore's error right after its last redraw, with no line break between.
test("snapshot restore: an error printed on the last redraw's line reaches the error and the lines", async () => {
  const failed =
    "error restoring: restore error: copy file: error creating file: cannot create temp file: open /t/LLL3568575081: file name too long";
  const lines: string[] = [];
  const bad = scripted([`Processed 5 (42 MB) of 7 (52.4 MB).${failed}`], { exitCode: 1 });
  const err = await bad.kopia
    .snapshotRestore("m1", "/t", { onProgress: () => {}, onStderrLine: (l) => lines.push(l) })
    .catch((e) => e);
  expect(String(err.message)).toContain(failed);
  expect(String(err.message)).not.toContain("Processed");
  expect(lines).toEqual([failed]);
});

test("snapshot restore: atomic writes into existing data; sparse, direct writes into an empty private target", async () => {
  const atomic = scripted([]);
  await atomic.kopia.snapshotRestore("m1", "/t", { deleteExtra: true });
  expect(atomic.calls[0]?.argv).toContain("--write-files-atomically");
  expect(atomic.calls[0]?.argv).not.toContain("--write-sparse-files");
  const empty = scripted([]);
  await empty.kopia.snapshotRestore("m1", "/t", { intoEmpty: true });
  expect(empty.calls[0]?.argv).toContain("--write-sparse-files");
  expect(empty.calls[0]?.argv).not.toContain("--write-files-atomically");
});

describe("readLines with carriageReturn", () => {
  const stream = (...chunks: string[]) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(new TextEncoder().encode(ch));
        c.close();
      },
    });
  const all = async (s: ReadableStream<Uint8Array>, carriageReturn?: boolean) => {
    const out: string[] = [];
    for await (const l of readLines(s, { carriageReturn })) out.push(l);
    return out;
  };

  test("a lone \\r ends a line; \\r\\n split across chunks stays one break", async () => {
    expect(await all(stream("head\n\r a\r b", "\r", "\nend\r"), true)).toEqual([
      "head",
      "",
      " a",
      " b",
      "end",
    ]);
  });

  test("default: only \\n ends a line (a trailing \\r is dropped)", async () => {
    expect(await all(stream("a\r b\r\n", "c"))).toEqual(["a\r b", "c"]);
  });
});
