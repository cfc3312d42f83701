/**
 * A backup to an S3-compatible server on loopback (moto), against bare kopia on the same data: one
 * volume of mixed data (half incompressible large files, a quarter many small files, a quarter
 * compressible text), `kopi-docka backup --scope minimal` (cold: stop, snapshot, start) into one fresh
 * repository, `kopia snapshot create` of the same directory into another fresh one (other prefix of
 * the same bucket). Prints both wall times and the ratio (target ≤ 1.10). Not a test. Measured on a
 * shared, busy 2-core machine, 1024 MiB: 25.9 s vs 21.6 s (1.20×, run from source, the one-time policy
 * update counted) and 24.5 s vs 17.7 s (1.38×, compiled binary, policy untimed): the target is not met
 * here. Most of the gap is kopia's own snapshot (20.7 s of cold window vs 17.7 s bare: kopi-docka runs it
 * with --progress and the rough estimator), about 3 s is start, connect, discovery, stop and start.
 * Run as root: `bun bench/s3.ts [MiB]` (default 1024).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../test/helpers/cli.ts";
import { run, startContainer, tempDir, uniqueName } from "../test/helpers/env.ts";
import { startS3 } from "../test/helpers/servers.ts";

const MIB = 1024 * 1024;
const total = Number(process.argv[2] ?? 1024) * MIB;
const dir = tempDir("kd-bench-s3-");
const name = uniqueName("kdbench-s3");
const s3 = await startS3(dir.path, ["bench"]);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

try {
  await run(["docker", "volume", "create", `${name}-v`]);
  const data = (
    await run(["docker", "volume", "inspect", "-f", "{{.Mountpoint}}", `${name}-v`])
  ).stdout.trim();
  const chunk = new Uint8Array(MIB);
  for (let i = 0; i < total / 2 / (64 * MIB); i++) {
    const f = Bun.file(join(data, `big-${i}.bin`)).writer();
    for (let m = 0; m < 64; m++) f.write(randomMiB(chunk));
    await f.end();
  }
  for (let i = 0; i < total / 4 / (16 * 1024); i++) {
    const sub = join(data, "small", `d${Math.floor(i / 500)}`);
    if (i % 500 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}`), randomMiB(chunk).subarray(0, 16 * 1024));
  }
  const line = "the quick brown fox jumps over the lazy dog, again and again and again\n";
  writeFileSync(join(data, "text.log"), line.repeat(Math.floor(total / 4 / line.length)));
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
  // the compiled binary when it is fresh (`bun run build.ts`), as a user runs it
  const env = {};
  const init = await runCli(["repo", "init", "--config", config], { env });
  if (init.exitCode !== 0) throw new Error(init.stderr);
  // An untimed first backup of a tiny other unit: the one-time global policy update is not counted
  // (bare kopia gets its policy set untimed too).
  await startContainer(`${name}-warm`, `${name}-warm-v`);
  const warm = await runCli(["backup", "--unit", `${name}-warm`, "--config", config], { env });
  if (warm.exitCode !== 0) throw new Error(warm.stderr);
  let t = performance.now();
  const ours = await runCli(["backup", "--unit", name, "--scope", "minimal", "--config", config], {
    env,
    timeoutMs: 3_600_000,
  });
  const oursMs = performance.now() - t;
  if (ours.exitCode !== 0) throw new Error(ours.stderr);

  const kenv = {
    KOPIA_PASSWORD: "bench-password",
    KOPIA_CHECK_FOR_UPDATES: "false",
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    KOPIA_LOG_DIR: join(dir.path, "bare-logs"),
  };
  const kopia = ["kopia", "--config-file", join(dir.path, "bare.config")];
  await run(
    [
      ...kopia,
      ...[
        "repository",
        "create",
        "s3",
        "--bucket",
        "bench",
        "--prefix",
        "bare/",
        "--endpoint",
        `127.0.0.1:${s3.port}`,
      ],
      ...["--disable-tls", "--cache-directory", join(dir.path, "bare-cache")],
    ],
    { env: kenv },
  );
  await run([...kopia, "policy", "set", "--global", "--compression", "zstd"], { env: kenv });
  t = performance.now();
  await run([...kopia, "snapshot", "create", data, "--no-progress"], { env: kenv, timeoutMs: 3_600_000 });
  const bareMs = performance.now() - t;
  console.log(`data: ${total / MIB} MiB mixed, S3 (moto) on 127.0.0.1`);
  console.log(`kopi-docka backup (cold, one unit): ${seconds(oursMs)}`);
  console.log(`bare kopia snapshot create:         ${seconds(bareMs)}`);
  console.log(`ratio: ${(oursMs / bareMs).toFixed(2)}× (target ≤ 1.10)`);
  console.log(ours.stderr.trim());
} finally {
  for (const n of [name, `${name}-warm`]) {
    await run(["docker", "rm", "-f", n], { check: false });
    await run(["docker", "volume", "rm", "-f", `${n}-v`], { check: false });
  }
  await s3.stop();
  dir.remove();
}

/** Fills `buf` with random bytes (getRandomValues takes at most 64 KiB at a time). */
function randomMiB(buf: Uint8Array): Uint8Array {
  for (let o = 0; o < buf.length; o += 65_536) crypto.getRandomValues(buf.subarray(o, o + 65_536));
  return buf;
}
