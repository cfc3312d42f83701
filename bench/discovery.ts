/**
 * Discovery time and docker process count for 10, 100 and 200 running containers.
 * Creates its own sleeping containers (label kd-bench=<run>) from the local test image, removes them
 * at the end. Usage: bun bench/discovery.ts [sizes…]
 */
import { ConfigSchema } from "../src/config/schema.ts";
import { discoverUnits } from "../src/core/discovery/discover.ts";
import { createDocker } from "../src/core/docker/docker.ts";
import { createBunRunner } from "../src/core/process/runner.ts";

const IMAGE = "kopi-docka-test/busybox:1";
const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const targets = sizes.length > 0 ? sizes : [10, 100, 200];
const tag = `kdbench${process.pid}`;
const label = `kd-bench=${tag}`;
const plain = createBunRunner();
const config = ConfigSchema.parse({});

async function grow(to: number, have: number): Promise<void> {
  const names = Array.from({ length: to - have }, (_, i) => `${tag}-${have + i}`);
  for (let i = 0; i < names.length; i += 10) {
    await Promise.all(
      names
        .slice(i, i + 10)
        .map((n) =>
          plain.run([
            "docker",
            "run",
            "-d",
            "--name",
            n,
            "--label",
            label,
            "-v",
            `${n}:/data`,
            IMAGE,
            "sleep",
            "3600",
          ]),
        ),
    );
  }
}

async function measure(): Promise<{ ms: number; spawns: number; units: number }> {
  let spawns = 0;
  const docker = createDocker(createBunRunner({ onSpawn: () => spawns++ }));
  const started = performance.now();
  const d = await discoverUnits({ docker, config });
  return { ms: performance.now() - started, spawns, units: d.units.length };
}

async function cleanup(): Promise<void> {
  const ps = await plain.run(["docker", "ps", "-aq", "--filter", `label=${label}`]);
  const ids = ps.stdout.split("\n").filter(Boolean);
  if (ids.length > 0)
    await plain.run(["docker", "rm", "-f", "-v", ...ids], { check: false, timeoutMs: 600_000 });
  const vols = await plain.run(["docker", "volume", "ls", "-q", "--filter", `name=${tag}-`]);
  const names = vols.stdout.split("\n").filter(Boolean);
  if (names.length > 0) await plain.run(["docker", "volume", "rm", "-f", ...names], { check: false });
}

try {
  let have = 0;
  console.log("containers  discovery (median of 3)  docker processes  units on host");
  for (const n of targets.sort((a, b) => a - b)) {
    await grow(n, have);
    have = n;
    await measure(); // warm-up
    const runs = [await measure(), await measure(), await measure()].sort((a, b) => a.ms - b.ms);
    const mid = runs[1] ?? runs[0];
    if (!mid) continue;
    console.log(
      `${String(n).padStart(10)}  ${`${mid.ms.toFixed(0)} ms`.padStart(22)}  ${String(mid.spawns).padStart(16)}  ${String(mid.units).padStart(13)}`,
    );
  }
} finally {
  await cleanup();
}
