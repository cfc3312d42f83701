#!/usr/bin/env bun
/**
 * Cold start of the compiled binaries: `--help` and `version` (which also asks kopia and docker), the
 * median of 20 runs each, for every binary named (default: dist/kopi-docka-linux-x64 and -full).
 *   bun run bench/cold-start.ts [binary…]
 */
const binaries = process.argv.slice(2);
if (!binaries.length) binaries.push("dist/kopi-docka-linux-x64", "dist/kopi-docka-linux-x64-full");
const RUNS = 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

for (const bin of binaries) {
  const size = Bun.file(bin).size;
  for (const args of [["--help"], ["version"]]) {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const r = Bun.spawnSync([bin, ...args], {
        stdout: "ignore",
        stderr: "ignore",
        env: { ...process.env, NO_COLOR: "1" },
      });
      times.push(performance.now() - t0);
      if (r.exitCode !== 0) throw new Error(`${bin} ${args.join(" ")} exited ${r.exitCode}`);
    }
    console.log(
      `${bin} (${(size / 1e6).toFixed(1)} MB) ${args.join(" ")}: median ${median(times).toFixed(1)} ms of ${RUNS}`,
    );
  }
}
