/**
 * Downtime per strategy, on a real stack: one service with `--volumes` volumes holding `--size` bytes
 * (many small files plus a few large ones), backed up twice: first backup, then after `--change` of
 * the bytes were rewritten. For each strategy it prints the cold window (first stop → last container
 * running) and the frozen window (all stopped → first start), both from the run record and the cold
 * window again from `docker events` (the way the Python Kopi-Docka is measured), the wall time of the
 * whole `kopi-docka backup` process, and the overhead against bare `kopia snapshot create` of the same
 * sources (one process per source, like the product, into a repository of its own).
 * When the Python Kopi-Docka is installed (`--python PATH`, default the venv
 * /var/cache/kopi-docka-dev/py/bin/kopi-docka), it backs up the same data in the same run.
 *
 * Run as root from a worktree with a built binary (`bun run build.ts`):
 *   bun bench/downtime.ts [--size 1G|200M] [--change 10] [--reps 3] [--volumes 4] [--strategies cold,…]
 *                         [--python PATH|none] [--before OLD-BINARY [--before-mode MODE]] [--keep]
 * With `fs-snapshot` among the strategies the data lives on a btrfs the bench makes on a loop device
 * (bind volumes, as `test/integration/fs-snapshot.test.ts` does), for every strategy alike.
 * The machine is shared and loaded: each change round is repeated `--reps` times; medians are printed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BLOCK_HASH } from "../src/core/kopia/kopia.ts";
import { bindVolume, makeBtrfs } from "../test/helpers/btrfs.ts";
import { QUICK_STOP, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../test/helpers/env.ts";
import { changeData, fillVolume, parseSize } from "./downtime-data.ts";
import { coldFromEvents } from "./downtime-events.ts";

const { values: args } = parseArgs({
  options: {
    size: { type: "string", default: "1G" },
    change: { type: "string", default: "10" },
    volumes: { type: "string", default: "4" },
    strategies: { type: "string", default: "cold" },
    reps: { type: "string", default: "3" },
    /** Another kopi-docka binary (e.g. an older build) run as "cold, before" on the same data. */
    before: { type: "string" },
    /** The mode the `--before` build backs up in (default cold). */
    "before-mode": { type: "string", default: "cold" },
    python: { type: "string", default: "/var/cache/kopi-docka-dev/py/bin/kopi-docka" },
    /** Leave the repositories, configs and kopia's logs (timestamped, per process) for a look. */
    keep: { type: "boolean", default: false },
  },
});
const size = parseSize(args.size);
const changePct = Number(args.change);
const volumeCount = Number(args.volumes);
const strategies = args.strategies.split(",").filter(Boolean);
if (args.before) strategies.push("before");
const python = args.python !== "none" && existsSync(args.python) ? args.python : undefined;
const built = join(import.meta.dir, "..", "dist", "kopi-docka-linux-x64");
if (!existsSync(built)) throw new Error(`no ${built}: run \`bun run build.ts\` first`);
const binaryOf = (strategy: string) => (strategy === "before" ? (args.before ?? built) : built);

interface Row {
  who: string;
  round: string;
  coldMs?: number;
  frozenMs?: number;
  eventsColdMs?: number;
  wallMs: number;
  bareMs?: number;
  bareReadMs?: number;
  status: string;
}
const rows: Row[] = [];
const dir = tempDir("kd-downtime-");
const name = uniqueName("kddown");
const volumes = Array.from({ length: volumeCount }, (_, i) => `${name}-v${i}`);
const PASSWORD = "bench-password-not-secret";

/**
 * Bare kopia: each volume's mountpoint in its own `kopia snapshot create`, timed as a whole; and its
 * reading alone, the sum of each snapshot's startTime → endTime (no process start, repository open,
 * manifest save or flush): the floor for a frozen window that reads the same data.
 */
interface Bare {
  ms: number;
  readMs: number;
}

async function bare(repoDir: string, mountpoints: string[]): Promise<Bare> {
  const cfg = join(repoDir, "kopia.config");
  const env = { KOPIA_PASSWORD: PASSWORD, KOPIA_CHECK_FOR_UPDATES: "false" };
  if (!existsSync(cfg)) {
    // The format the product creates: the overhead then compares the same hashing work.
    const create = [
      "kopia",
      "--config-file",
      cfg,
      "repository",
      "create",
      "filesystem",
      "--block-hash",
      BLOCK_HASH,
    ];
    await run([...create, "--path", join(repoDir, "repo"), "--cache-directory", join(repoDir, "cache")], {
      env,
    });
  }
  const t0 = performance.now();
  let readMs = 0;
  for (const m of mountpoints) {
    const r = await run(["kopia", "--config-file", cfg, "snapshot", "create", m, "--json", "--no-progress"], {
      env,
    });
    const manifest = JSON.parse(r.stdout.trim().split("\n")[0] ?? "{}");
    readMs += Date.parse(manifest.endTime) - Date.parse(manifest.startTime);
  }
  return { ms: performance.now() - t0, readMs };
}

async function ours(strategy: string, config: string, round: string, b: Bare) {
  const since = Date.now() / 1000;
  const t0 = performance.now();
  const r = await run([binaryOf(strategy), "backup", "--config", config, "--unit", name], { check: false });
  const wallMs = performance.now() - t0;
  if (r.exitCode !== 0) console.error(r.stderr.slice(-2000));
  const runsDir = join(dir.path, `ours-${strategy}`, "state", "runs");
  const last = readdirSync(runsDir).sort().at(-1) ?? "";
  const record = JSON.parse(readFileSync(join(runsDir, last), "utf8"));
  const u = record.units.find((x: { name: string }) => x.name === name);
  rows.push({
    who: `ours ${strategy === "before" && args["before-mode"] !== "cold" ? `before ${args["before-mode"]}` : strategy}`,
    round,
    coldMs: u?.coldWindowMs,
    frozenMs: u?.frozenWindowMs,
    eventsColdMs: await coldFromEvents(name, since),
    wallMs,
    bareMs: b.ms,
    bareReadMs: b.readMs,
    status: record.status,
  });
}

/** The Python Kopi-Docka 7.9.0 on the same data: JSON config, its own kopia profile and repository. */
async function pythonRun(round: string, b: Bare) {
  if (!python) return;
  const home = join(dir.path, "python");
  const profile = `kdbench-${name}`;
  const profileConfig = `/root/.config/kopia/repository-${profile}.config`;
  const config = join(home, "config.json");
  if (!existsSync(config)) {
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "password"), PASSWORD, { mode: 0o600 });
    const kopia = { kopia_params: `filesystem --path ${join(home, "repo")}`, profile };
    writeFileSync(
      config,
      JSON.stringify({
        kopia: { ...kopia, password_file: join(home, "password"), cache_directory: join(home, "cache") },
        backup: { base_path: join(home, "base"), stop_timeout: 30 },
        notifications: { enabled: false, preflight_check: false },
        alerting: { missed_backup: { enabled: false } },
      }),
      { mode: 0o600 },
    );
    const env = { KOPIA_PASSWORD: PASSWORD, KOPIA_CHECK_FOR_UPDATES: "false" };
    const create = ["kopia", "--config-file", profileConfig, "repository", "create", "filesystem"];
    await run([...create, "--path", join(home, "repo"), "--cache-directory", join(home, "cache")], { env });
  }
  const since = Date.now() / 1000;
  const t0 = performance.now();
  const r = await run([python, "--config", config, "backup", "--unit", name], { check: false });
  const wallMs = performance.now() - t0;
  if (r.exitCode !== 0) console.error(r.stdout.slice(-2000), r.stderr.slice(-2000));
  // Proof it backed up the volumes, not just ran: its volume snapshots of this round.
  const list = await run(
    [
      "kopia",
      "--config-file",
      `/root/.config/kopia/repository-${profile}.config`,
      "snapshot",
      "list",
      "--all",
      "--json",
    ],
    {
      env: { KOPIA_PASSWORD: PASSWORD, KOPIA_CHECK_FOR_UPDATES: "false" },
    },
  );
  type Manifest = {
    tags?: Record<string, string>;
    startTime: string;
    rootEntry?: { summ?: { size?: number } };
  };
  const volumeSnaps = (JSON.parse(list.stdout || "[]") as Manifest[]).filter(
    (m) => m.tags?.["tag:type"] === "volume" && Date.parse(m.startTime) / 1000 >= since,
  );
  // What its snapshots hold, not only that they exist: on bind volumes (the btrfs runs) docker unmounts
  // a volume's directory when its container stops, and a tool that reads the volume's mountpoint while
  // the container is stopped backs up an empty directory in no time. Such a window compares with nothing.
  const held = volumeSnaps.reduce((n, m) => n + (m.rootEntry?.summ?.size ?? 0), 0);
  const complete = held >= size * 0.99;
  rows.push({
    who: `python 7.9.0, ${volumeSnaps.length} volume snapshots of ${(held / 2 ** 20).toFixed(0)} MiB`,
    round,
    eventsColdMs: await coldFromEvents(name, since),
    wallMs,
    bareMs: b.ms,
    bareReadMs: b.readMs,
    status:
      r.exitCode !== 0
        ? `exit ${r.exitCode}`
        : complete
          ? "ok"
          : `NOT COMPARABLE: ${(held / 2 ** 20).toFixed(0)} of ${(size / 2 ** 20).toFixed(0)} MiB saved`,
  });
}

function median(xs: (number | undefined)[]): number | undefined {
  const v = xs.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  return v.length === 0 ? undefined : v[Math.floor(v.length / 2)];
}
const perSource = (ms?: number) => (ms === undefined ? "-" : `${Math.round(ms / volumeCount)} ms`);
const fmt = (ms?: number) => (ms === undefined ? "-" : `${(ms / 1000).toFixed(3)}s`);
// fs-snapshot needs the data on btrfs: then every strategy reads the same data there, from bind volumes.
const btrfs = strategies.includes("fs-snapshot") ? await makeBtrfs(dir.path, size * 3 + 2 ** 30) : undefined;
try {
  const mountpoints: string[] = [];
  for (const v of volumes) {
    if (btrfs) {
      mountpoints.push(join(btrfs.mnt, v));
      await bindVolume(v, join(btrfs.mnt, v));
      continue;
    }
    await run(["docker", "volume", "create", v]);
    const r = await run(["docker", "volume", "inspect", "-f", "{{.Mountpoint}}", v]);
    mountpoints.push(r.stdout.trim());
  }
  console.error(`filling ${args.size} over ${volumeCount} volumes …`);
  const files = mountpoints.flatMap((m, i) => fillVolume(m, size / volumeCount, i === 0));
  const mounts = volumes.flatMap((v, i) => ["-v", `${v}:/data${i}`]);
  await run(["docker", "run", "-d", "--name", name, ...mounts, TEST_IMAGE, "sh", "-c", QUICK_STOP]);
  const configs = new Map<string, string>();
  for (const s of strategies) {
    const mode = s === "before" ? args["before-mode"] : s;
    const extra = mode === "cold" ? "" : `[units."${name}"]\nmode = "${mode}"\n`;
    const c = writeTestConfig(join(dir.path, `ours-${s}`), `[backup]\nstop_timeout = 30\n${extra}`);
    writeFileSync(join(dir.path, `ours-${s}`, "repository.password"), PASSWORD, { mode: 0o600 });
    configs.set(s, c);
  }
  const changes = Array.from({ length: Number(args.reps) }, (_, i) => `${changePct}% changed (${i + 1})`);
  for (const round of ["first", ...changes]) {
    if (round !== "first") changeData(files, changePct);
    const b = await bare(join(dir.path, "bare"), mountpoints);
    for (const s of strategies) await ours(s, configs.get(s) ?? "", round, b);
    await pythonRun(round, b);
  }
  const lscpu = await run(["sh", "-c", "nproc; uptime"], { check: false });
  console.log(`machine: ${lscpu.stdout.replace(/\n/g, "; ")}date: ${new Date().toISOString()}`);
  console.log(`data: ${args.size} in ${volumeCount} volumes, ${files.length} files; change ${changePct}%`);
  console.log(
    "| who | round | cold (record) | frozen | cold (docker events) | wall | bare kopia | bare read | overhead |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    const over =
      r.eventsColdMs !== undefined && r.bareMs !== undefined ? r.eventsColdMs - r.bareMs : undefined;
    console.log(
      `| ${r.who} (${r.status}) | ${r.round} | ${fmt(r.coldMs)} | ${fmt(r.frozenMs)} | ${fmt(r.eventsColdMs)} | ${fmt(r.wallMs)} | ${fmt(r.bareMs)} | ${fmt(r.bareReadMs)} | ${fmt(over)} |`,
    );
  }
  console.log("\nmedians over the change rounds:");
  // Frozen window per source: with little changed, what each snapshot costs while all is stopped.
  console.log(
    "| who | cold (docker events) | frozen | frozen per source | wall | bare kopia | bare read | overhead |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const who of [...new Set(rows.map((r) => r.who.replace(/, \d+ volume snapshots.*/, "")))]) {
    const mine = rows.filter((r) => r.round !== "first" && r.who.startsWith(who));
    const m = (f: (r: Row) => number | undefined) => median(mine.map(f));
    const flagged = mine.find((r) => r.status !== "ok")?.status;
    const over = m((r) => (r.eventsColdMs ?? 0) - (r.bareMs ?? 0));
    console.log(
      `| ${who}${flagged ? ` (${flagged})` : ""} | ${fmt(m((r) => r.eventsColdMs))} | ${fmt(m((r) => r.frozenMs))} | ${perSource(m((r) => r.frozenMs))} | ${fmt(m((r) => r.wallMs))} | ${fmt(m((r) => r.bareMs))} | ${fmt(m((r) => r.bareReadMs))} | ${fmt(over)} |`,
    );
  }
} finally {
  await run(["docker", "rm", "-f", name], { check: false });
  for (const v of volumes) await run(["docker", "volume", "rm", "-f", v], { check: false });
  // kopia keeps the Python run's profile next to a saved password and a lock file: all three are ours.
  const profile = `/root/.config/kopia/repository-kdbench-${name}.config`;
  for (const f of [profile, `${profile}.kopia-password`, `${profile}.mlock`]) rmSync(f, { force: true });
  // …and stages its recipes under a fixed path, whatever its config says.
  rmSync(`/var/cache/kopi-docka/staging/recipes/${name}`, { recursive: true, force: true });
  await btrfs?.remove();
  if (args.keep) console.error(`kept ${dir.path}`);
  else dir.remove();
}
