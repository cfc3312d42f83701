#!/usr/bin/env bun
/**
 * Cold start of the compiled binaries: `--help`, `version` (which also asks kopia and docker), and for
 * a full binary `version` with kopia.binary = "embedded" (the extracted kopia, checksum checked on each
 * start). The median of 20 runs each; the binaries take turns, so machine load hits them alike.
 *   bun run bench/cold-start.ts [binary…]   (default: dist/kopi-docka-linux-x64 and -x64-full)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const binaries = process.argv.slice(2);
if (!binaries.length) binaries.push("dist/kopi-docka-linux-x64", "dist/kopi-docka-linux-x64-full");
const RUNS = 20;
const scratch = mkdtempSync(join(tmpdir(), "kd-bench-"));
const config = join(scratch, "config.toml");
writeFileSync(config, `[kopia]\nbinary = "embedded"\n\n[paths]\nstate_dir = "${scratch}/state"\n`);

interface Case {
  label: string;
  bin: string;
  args: string[];
  env?: Record<string, string>;
}
const cases: Case[] = binaries.flatMap((bin) => [
  { label: `${bin} --help`, bin, args: ["--help"] },
  { label: `${bin} version`, bin, args: ["version"] },
  ...(bin.endsWith("-full")
    ? [
        {
          label: `${bin} version (embedded kopia)`,
          bin,
          args: ["version"],
          env: { KOPI_DOCKA_CONFIG: config },
        },
      ]
    : []),
]);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const times = new Map<Case, number[]>(cases.map((c) => [c, []]));
for (let i = 0; i < RUNS; i++) {
  for (const c of cases) {
    const t0 = performance.now();
    const r = Bun.spawnSync([c.bin, ...c.args], {
      stdout: "ignore",
      stderr: "ignore",
      env: { ...process.env, NO_COLOR: "1", ...c.env },
    });
    times.get(c)?.push(performance.now() - t0);
    if (r.exitCode !== 0) throw new Error(`${c.label} exited ${r.exitCode}`);
  }
}
for (const c of cases) {
  const size = (Bun.file(c.bin).size / 1e6).toFixed(1);
  console.log(`${c.label} (${size} MB): median ${median(times.get(c) ?? []).toFixed(1)} ms of ${RUNS}`);
}
rmSync(scratch, { recursive: true, force: true });
