/**
 * What `--progress` costs a snapshot. With it kopia also walks the source to estimate its size (the
 * "estimated … left" part of the line), next to the walk that snapshots it. This times incremental
 * snapshots of a many-small-files tree (where walking dominates) with and without progress, through
 * kopi-docka's own wrapper. Run: `bun bench/progress.ts [files]` (default 50000).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createKopia } from "../src/core/kopia/kopia.ts";
import { readPassword } from "../src/core/kopia/password.ts";
import { ensureRepository } from "../src/core/kopia/repository.ts";
import { silentLogger } from "../src/core/log.ts";
import { createBunRunner } from "../src/core/process/runner.ts";
import { tempDir } from "../test/helpers/env.ts";

const FILES = Number(process.argv[2] ?? 50_000);
const ROUNDS = 3;
const dir = tempDir("kdt-bench-progress-");
const source = join(dir.path, "source");
const kopia = createKopia(createBunRunner(), {
  configFile: join(dir.path, "kopia", "repository.config"),
  cacheDir: join(dir.path, "cache"),
  logDir: join(dir.path, "logs"),
  password: () => readPassword(join(dir.path, "password")),
  hostname: "kd-bench",
  username: "kopi-docka",
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

try {
  for (let i = 0; i < FILES; i++) {
    const sub = join(source, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}`), `${i}\n`);
  }
  const repo = {
    backend: "filesystem" as const,
    path: join(dir.path, "repo"),
    password_file: join(dir.path, "password"),
    hostname: "",
    compression: "zstd" as const,
    cache_size_mb: 0,
  };
  await ensureRepository(kopia, repo, silentLogger());
  await kopia.snapshotCreateResult(source); // the first, full snapshot; the timed ones are incremental
  const times: Record<string, number[]> = { "--no-progress": [], "--progress": [] };
  let redraws = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of Object.keys(times)) {
      const t0 = performance.now();
      const res = await kopia.snapshotCreateResult(
        source,
        mode === "--progress" ? { onProgress: () => redraws++ } : {},
      );
      if (res.exitCode !== 0) throw new Error(`snapshot failed: ${res.stderrTail}`);
      times[mode]?.push(performance.now() - t0);
    }
  }
  console.log(`incremental snapshot of ${FILES} small files in ${FILES / 100} dirs, ${ROUNDS} rounds each`);
  for (const [mode, ms] of Object.entries(times))
    console.log(
      `  ${mode.padEnd(14)} median ${median(ms).toFixed(0)} ms  (${ms.map((x) => x.toFixed(0)).join(", ")})`,
    );
  const extra = median(times["--progress"] ?? []) - median(times["--no-progress"] ?? []);
  console.log(`  progress costs ${extra.toFixed(0)} ms per snapshot; ${redraws} redraws parsed`);
} finally {
  dir.remove();
}
