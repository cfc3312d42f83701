import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RestoreProgress, SnapshotProgress } from "../../src/core/kopia/progress.ts";
import { describeReal, tempDir } from "../helpers/env.ts";
import { tempKopia } from "../helpers/kopia.ts";

const MB = 1_000_000;

describeReal("kopia progress: real kopia --progress on a multi-MB source", ["kopia"], () => {
  const dir = tempDir("kdt-progress-");
  const source = join(dir.path, "source");
  const { kopia, open } = tempKopia(dir.path);

  beforeAll(async () => {
    // Random (incompressible, never deduplicated) files: 40 × 1 MB and one 40 MB file.
    mkdirSync(source, { recursive: true });
    for (let i = 0; i < 40; i++)
      writeFileSync(join(source, `f${i}.bin`), crypto.getRandomValues(new Uint8Array(MB)));
    const big = new Uint8Array(40 * MB);
    for (let o = 0; o < big.length; o += 65_536) crypto.getRandomValues(big.subarray(o, o + 65_536));
    writeFileSync(join(source, "big.bin"), big);
    await open();
  });

  afterAll(() => dir.remove());

  test("snapshot create: onProgress sees growing hashed bytes up to the manifest size; later run: cached", async () => {
    const seen: SnapshotProgress[] = [];
    const other: string[] = [];
    const r = await kopia.snapshotCreateResult(source, {
      onProgress: (p) => seen.push(p),
      onStderrLine: (l) => other.push(l),
    });
    expect(r.exitCode).toBe(0);
    const size = r.manifest?.rootEntry?.summ?.size ?? 0;
    expect(size).toBe(80 * MB);
    const done = seen.map((p) => p.hashedBytes + p.cachedBytes);
    expect(new Set(done).size).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < done.length; i++) expect(done[i] ?? 0).toBeGreaterThanOrEqual(done[i - 1] ?? 0);
    // kopia rounds to 3 significant digits: the last redraw is the whole source, within 1 %.
    expect(Math.abs((done.at(-1) ?? 0) - size)).toBeLessThan(size / 100);
    expect(seen.at(-1)?.hashedFiles).toBe(41);
    expect(other.join("\n")).not.toMatch(/hashing,/);

    // Unchanged files are cached (not read again) the second time.
    const again: SnapshotProgress[] = [];
    await kopia.snapshotCreateResult(source, { onProgress: (p) => again.push(p) });
    expect(again.at(-1)).toMatchObject({ hashedFiles: 0, cachedFiles: 41 });
  });

  test("snapshot restore: onProgress reports processed bytes; the bytes are restored", async () => {
    const [m] = (await kopia.snapshotList()).filter((x) => x.source.path === source);
    if (!m) throw new Error("no snapshot of the source");
    const seen: RestoreProgress[] = [];
    const target = join(dir.path, "restored");
    await kopia.snapshotRestore(m.id, target, { onProgress: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)?.totalBytes).toBe(80 * MB);
    expect(seen.at(-1)?.processedBytes ?? 0).toBeGreaterThan(0);
    expect(readFileSync(join(target, "f7.bin")).equals(readFileSync(join(source, "f7.bin")))).toBe(true);
  });
});
