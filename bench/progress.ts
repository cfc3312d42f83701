/**
 * What `--progress` costs a snapshot. With it kopia also walks the source to estimate its size (the
 * "estimated … left" part of the line), next to the walk that snapshots it. This times incremental
 * snapshots of a many-small-files tree (where walking dominates) with and without progress, through
 * kopi-docka's own wrapper. Run: `bun bench/progress.ts [files]` (default 50000).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../test/helpers/env.ts";
import { tempKopia } from "../test/helpers/kopia.ts";

const FILES = Number(process.argv[2] ?? 50_000);
const ROUNDS = 5;
const dir = tempDir("kdt-bench-progress-");
const source = join(dir.path, "source");
const { kopia, open } = tempKopia(dir.path, { hostname: "kd-bench" });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

try {
  for (let i = 0; i < FILES; i++) {
    const sub = join(source, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}`), `${i}\n`);
  }
  await open();
  await kopia.snapshotCreateResult(source); // the first, full snapshot; the timed ones are incremental
  // kopia's default estimator (a second walk) through the raw runner; "rough" is what kopi-docka uses.
  const modes: Record<string, () => Promise<{ exitCode: number | null }>> = {
    "no progress": () => kopia.snapshotCreateResult(source),
    "progress, kopia's default estimate": () =>
      kopia.run(["snapshot", "create", source, "--json", "--progress", "--no-auto-maintenance"], {
        check: false,
      }),
    "progress, rough estimate (kopi-docka)": () =>
      kopia.snapshotCreateResult(source, { onProgress: () => {} }),
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [mode, snapshot] of Object.entries(modes)) {
      const t0 = performance.now();
      const res = await snapshot();
      if (res.exitCode !== 0) throw new Error(`snapshot failed (${mode})`);
      times[mode]?.push(performance.now() - t0);
    }
  }
  console.log(`incremental snapshot of ${FILES} small files in ${FILES / 100} dirs, ${ROUNDS} rounds each`);
  const base = median(times["no progress"] ?? []);
  for (const [mode, ms] of Object.entries(times)) {
    const m = median(ms);
    const extra = mode === "no progress" ? "" : `, ${m - base >= 0 ? "+" : ""}${(m - base).toFixed(0)} ms`;
    console.log(
      `  ${mode.padEnd(38)} median ${m.toFixed(0)} ms${extra}  (${ms.map((x) => x.toFixed(0)).join(", ")})`,
    );
  }
} finally {
  dir.remove();
}
