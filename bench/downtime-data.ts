/** The bench's data set: many small files plus a few large ones, and a change of a share of the bytes. */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface DataFile {
  path: string;
  size: number;
}

/** "1G", "200M", "64K" or bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)i?B?$/i.exec(text.trim());
  if (!m) throw new Error(`--size: "${text}" is not a size like 1G or 200M`);
  const unit = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(m[2] ?? "").toUpperCase()] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

/**
 * Fills `dir` with `bytes` of random data: 30 % in small files (4–64 KiB, 100 per directory), the rest
 * in `large` files of equal size. Random, so neither compression nor dedup shortens the work.
 */
export function fillVolume(dir: string, bytes: number, withLarge = true): DataFile[] {
  const files: DataFile[] = [];
  const smallBudget = withLarge ? bytes * 0.3 : bytes;
  let used = 0;
  for (let i = 0; used < smallBudget; i++) {
    const sub = join(dir, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    const size = 4096 + Math.floor(Math.random() * 61440);
    const path = join(sub, `f${i}`);
    writeFileSync(path, randomBytes(size));
    files.push({ path, size });
    used += size;
  }
  if (!withLarge) return files;
  const large = 3;
  for (let i = 0; i < large; i++) {
    const size = Math.floor((bytes - used) / large);
    const path = join(dir, `large${i}.bin`);
    writeFileSync(path, "");
    for (let off = 0; off < size; off += 16 * 1024 * 1024)
      writeFileSync(path, randomBytes(Math.min(16 * 1024 * 1024, size - off)), { flag: "a" });
    files.push({ path, size });
  }
  return files;
}

/** Rewrites whole files, small ones first in random order, until `pct` % of all bytes changed. */
export function changeData(files: DataFile[], pct: number): number {
  const total = files.reduce((n, f) => n + f.size, 0);
  const budget = (total * pct) / 100;
  const order = [...files].sort(() => Math.random() - 0.5).sort((a, b) => a.size - b.size);
  let changed = 0;
  for (const f of order) {
    if (changed >= budget) break;
    if (f.size > budget - changed && changed > 0) continue;
    writeFileSync(f.path, randomBytes(Math.min(f.size, 64 * 1024 * 1024)));
    if (f.size > 64 * 1024 * 1024)
      for (let off = 64 * 1024 * 1024; off < f.size; off += 16 * 1024 * 1024)
        writeFileSync(f.path, randomBytes(Math.min(16 * 1024 * 1024, f.size - off)), { flag: "a" });
    changed += f.size;
  }
  return changed;
}
