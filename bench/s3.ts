/**
 * A backup to an S3-compatible server on loopback (moto), against bare kopia on the same data and the
 * same repository. One volume of mixed data (half incompressible large files, a quarter 16 KiB files,
 * a quarter compressible text) under one running container. Before every timed run the whole volume is
 * rewritten with new content, so each run uploads all of it (nothing deduplicates against an earlier
 * run), and both contenders are warm: each has a previous snapshot of its source, the same kopia config,
 * cache and password (bare kopia runs on kopi-docka's own connection).
 *  - ours: `kopi-docka backup --unit NAME --scope minimal` (cold: stop, snapshot, start), the compiled
 *    binary when it is fresh (`bun run build.ts`), a process per run as cron or systemd runs it;
 *  - bare: `kopia snapshot create MOUNTPOINT --no-progress --no-auto-maintenance` on that connection.
 * The order alternates each round; medians of `--reps` rounds; ratio = median ours / median bare
 * (target ≤ 1.10), and the median of each round's ours / bare. `--before BINARY` adds an older kopi-docka build as a third contender on the same
 * config, connection and source. `--trace` adds one untimed run of ours with `kopia` and `docker`
 * wrapped, and prints every call it made with its start (from the run's start) and duration. Not a test.
 * Run as root: `bun bench/s3.ts [--mib 1024] [--reps 3] [--before BINARY] [--trace]`.
 */
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runCli } from "../test/helpers/cli.ts";
import { run, startContainer, tempDir, uniqueName } from "../test/helpers/env.ts";
import { startS3 } from "../test/helpers/servers.ts";

const { values: opt } = parseArgs({
  options: {
    mib: { type: "string", default: "1024" },
    reps: { type: "string", default: "3" },
    trace: { type: "boolean", default: false },
    before: { type: "string" },
  },
});
const MIB = 1024 * 1024;
const total = Number(opt.mib) * MIB;
const reps = Number(opt.reps);
const dir = tempDir("kd-bench-s3-");
const name = uniqueName("kdbench-s3");
const s3 = await startS3(dir.path, ["bench"]);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

try {
  await run(["docker", "volume", "create", `${name}-v`]);
  const data = (
    await run(["docker", "volume", "inspect", "-f", "{{.Mountpoint}}", `${name}-v`])
  ).stdout.trim();
  fill(data, "setup");
  await startContainer(name, `${name}-v`);

  const secret = join(dir.path, "s3.secret");
  writeFileSync(secret, "bench\n", { mode: 0o600 });
  const kd = join(dir.path, "kd");
  mkdirSync(kd, { recursive: true });
  const config = join(kd, "config.toml");
  writeFileSync(
    config,
    `[repository]\nbackend = "s3"\nbucket = "bench"\nprefix = "ours/"\nendpoint = "127.0.0.1:${s3.port}"\ntls = false\n` +
      `access_key_id_file = "${secret}"\nsecret_access_key_file = "${secret}"\npassword_file = "${kd}/pw"\nhostname = "bench"\n` +
      `[paths]\nstate_dir = "${kd}/state"\ncache_dir = "${kd}/cache"\nlock_file = "${kd}/lock"\n[backup]\nstop_timeout = 2\n`,
  );
  const env = {};
  const init = await runCli(["repo", "init", "--config", config], { env });
  if (init.exitCode !== 0) throw new Error(init.stderr);

  const ours = async (extraEnv: Record<string, string> = {}, binary?: string) => {
    const args = ["backup", "--unit", name, "--scope", "minimal", "--config", config];
    const o = { env: { ...env, ...extraEnv }, timeoutMs: 3_600_000 };
    const r = binary
      ? await run([binary, ...args], { ...o, check: false, env: { ...o.env, CI: "true", NO_COLOR: "1" } })
      : await runCli(args, o);
    if (r.exitCode !== 0) throw new Error(r.stderr);
    return r;
  };
  // bare kopia on kopi-docka's own connection: same repository, config, cache and credentials
  const kenv = {
    KOPIA_PASSWORD: readFileSync(join(kd, "pw"), "utf8").trim(),
    KOPIA_CHECK_FOR_UPDATES: "false",
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    KOPIA_LOG_DIR: join(dir.path, "bare-logs"),
  };
  const bare = () =>
    run(
      [
        ...["kopia", "--config-file", join(kd, "state", "kopia", "repository.config")],
        ...["snapshot", "create", data, "--no-progress", "--no-auto-maintenance"],
      ],
      { env: kenv, timeoutMs: 3_600_000 },
    );

  // Untimed: the first snapshot of each source (and kopi-docka's one-time policy update).
  await ours();
  await bare();
  const before = opt.before;
  if (before) await ours({}, before);
  type Who = "ours" | "before" | "bare";
  const who3: Who[] = before ? ["ours", "before", "bare"] : ["ours", "bare"];
  const times: Record<Who, number[]> = { ours: [], before: [], bare: [] };
  for (let i = 0; i < reps; i++) {
    // each contender first, middle and last in turn; two contenders simply alternate
    const order = [...who3.slice(i % who3.length), ...who3.slice(0, i % who3.length)];
    for (const who of order) {
      fill(data, `${who}-${i}`);
      await run(["sync"]);
      const t = performance.now();
      if (who === "ours") await ours();
      else if (who === "before") await ours({}, before);
      else await bare();
      times[who].push(performance.now() - t);
      console.error(`round ${i + 1} ${who}: ${seconds(times[who].at(-1) ?? 0)}`);
    }
  }
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(`data: ${total / MIB} MiB mixed, new content every run, S3 (moto) on 127.0.0.1; load ${load}`);
  console.log("| who | runs | median |");
  console.log("|---|---|---|");
  for (const who of who3)
    console.log(`| ${who} | ${times[who].map(seconds).join(", ")} | ${seconds(median(times[who]))} |`);
  console.log(`ratio: ${(median(times.ours) / median(times.bare)).toFixed(2)}× (target ≤ 1.10)`);
  if (before) console.log(`before/bare: ${(median(times.before) / median(times.bare)).toFixed(2)}×`);
  // Each round's runs are minutes apart under the same load: their ratio is steadier than the medians'.
  const perRound = (who: Who) => median(times[who].map((t, i) => t / (times.bare[i] ?? t))).toFixed(2);
  console.log(
    `median of the rounds' ratios: ours ${perRound("ours")}×${before ? `, before ${perRound("before")}×` : ""}`,
  );

  if (opt.trace) {
    fill(data, "trace");
    await run(["sync"]);
    const bin = join(dir.path, "trace-bin");
    const log = join(dir.path, "trace.log");
    mkdirSync(bin, { recursive: true });
    for (const [tool, real] of [
      ["kopia", (await run(["sh", "-c", "command -v kopia"])).stdout.trim()],
      ["docker", (await run(["sh", "-c", "command -v docker"])).stdout.trim()],
    ]) {
      const wrapper = join(bin, tool ?? "");
      writeFileSync(
        wrapper,
        `#!/bin/sh\ns=$(date +%s%N); ${real} "$@"; rc=$?\necho "$s $(date +%s%N) ${tool} $*" >> ${log}; exit $rc\n`,
      );
      chmodSync(wrapper, 0o755);
    }
    const t0 = Date.now();
    const r = await ours({ PATH: `${bin}:${process.env.PATH}` });
    const wall = Date.now() - t0;
    const lines = readFileSync(log, "utf8").trim().split("\n");
    const calls = lines
      .map((l) => l.split(" "))
      .map(([s, e, ...argv]) => ({ start: Number(s) / 1e6 - t0, ms: (Number(e) - Number(s)) / 1e6, argv }))
      .sort((a, b) => a.start - b.start);
    console.log(`\ntrace: ours ${seconds(wall)} wall, ${calls.length} calls`);
    for (const c of calls)
      console.log(
        `${seconds(c.start).padStart(9)} +${seconds(c.ms).padStart(8)}  ${c.argv.join(" ").slice(0, 140)}`,
      );
    console.log(r.stderr.trim());
  }
} finally {
  await run(["docker", "rm", "-f", name], { check: false });
  await run(["docker", "volume", "rm", "-f", `${name}-v`], { check: false });
  await s3.stop();
  dir.remove();
}

/** Rewrites the volume with new content (`tag` makes the text unique too): half random large files,
 *  a quarter random 16 KiB files, a quarter compressible text. */
function fill(data: string, tag: string) {
  const chunk = new Uint8Array(MIB);
  for (let i = 0; i < total / 2 / (64 * MIB); i++) {
    const out: Uint8Array[] = [];
    for (let m = 0; m < 64; m++) out.push(randomMiB(chunk).slice());
    writeFileSync(join(data, `big-${i}.bin`), Buffer.concat(out));
  }
  for (let i = 0; i < total / 4 / (16 * 1024); i++) {
    const sub = join(data, "small", `d${Math.floor(i / 500)}`);
    if (i % 500 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}`), randomMiB(chunk).subarray(0, 16 * 1024));
  }
  const fd = openSync(join(data, "text.log"), "w");
  const n = Math.floor(total / 4 / 80);
  for (let i = 0; i < n; i += 10_000) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(n, i + 10_000); j++)
      lines.push(`${tag} ${j} the quick brown fox jumps over the lazy dog\n`);
    writeSync(fd, lines.join(""));
  }
  closeSync(fd);
}

/** Fills `buf` with random bytes (getRandomValues takes at most 64 KiB at a time). */
function randomMiB(buf: Uint8Array): Uint8Array {
  for (let o = 0; o < buf.length; o += 65_536) crypto.getRandomValues(buf.subarray(o, o + 65_536));
  return buf;
}
