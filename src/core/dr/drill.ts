import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadConfig } from "../../config/load.ts";
import { KOPIA_USERNAME } from "../../config/resolve.ts";
import type { Docker } from "../docker/docker.ts";
import { AppError } from "../errors.ts";
import { chooseKopia, type KopiaChoice } from "../kopia/binary.ts";
import { createKopia, type Kopia } from "../kopia/kopia.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import { makeTempDir } from "../process/temp-dirs.ts";
import { groupRestorePoints, type RestorePoint } from "../restore/points.ts";
import { type Lifecycle, PRIORITY } from "../safe-exit.ts";
import { drillEnv } from "./bundle-env.ts";
import { connectReadOnly } from "./connect.ts";
import { drillConfig } from "./drill-config.ts";
import { runRestoreCopy } from "./drill-restore.ts";
import { secretReferences } from "./gather.ts";
import { type OpenedBundle, openBundle } from "./open.ts";

export interface DrillContext {
  runner: Runner;
  docker: Docker;
  log: Logger;
  lifecycle: Lifecycle;
}

export interface DrillRequest {
  file: string;
  passphrase: string;
  unit?: string;
  /** How to run this very kopi-docka (the drill restores through the real `restore` command). */
  selfArgv: string[];
  /** Percent of the sample's files read back by `snapshot verify`. */
  verifyPercent?: number;
}

export interface DrillCheck {
  step: string;
  status: "pass" | "fail" | "skip";
  detail: string;
}

export interface DrillResult {
  file: string;
  host?: string;
  unit?: string;
  copy?: string;
  checks: DrillCheck[];
  ok: boolean;
}

const errorText = (e: unknown) =>
  e instanceof AppError
    ? `${e.message}${e.hint ? ` (${e.hint})` : ""}`
    : e instanceof Error
      ? e.message
      : String(e);

/** What an earlier step made: a step runs only after every earlier one passed, so it is there. */
function madeBy<T>(value: T | undefined, step: string): T {
  if (value === undefined) throw new Error(`dr drill: the ${step} step left nothing behind`);
  return value;
}

/**
 * Proves a bundle brings a unit back, without touching the live setup: decrypt, connect read-only
 * with a temporary config and state dir, list restore points, verify a sample, restore one unit
 * side by side under a throwaway name with the real `restore --as … --start`, check its containers
 * run, then remove every container, volume, network and file it made. Each step is a row; the first
 * failure skips the rest (but never the clean-up).
 */
export async function runDrill(ctx: DrillContext, req: DrillRequest): Promise<DrillResult> {
  const result: DrillResult = { file: req.file, checks: [], ok: true };
  const step = async (name: string, fn: () => Promise<string>) => {
    if (!result.ok)
      return result.checks.push({ step: name, status: "skip", detail: "an earlier step failed" });
    try {
      result.checks.push({ step: name, status: "pass", detail: await fn() });
    } catch (e) {
      result.ok = false;
      result.checks.push({ step: name, status: "fail", detail: errorText(e) });
    }
  };
  const dir = makeTempDir("drill");
  chmodSync(dir, 0o700);
  const copy = `kddrill${Math.random().toString(36).slice(2, 8)}`;
  let kopia: Kopia | undefined;
  const cleanup = async () => {
    try {
      const left = await ctx.docker.objectsNamed(copy);
      await ctx.docker.containerRemove(left.containers);
      await ctx.docker.volumeRemove(left.volumes);
      await ctx.docker.networksRemove(left.networks);
      const after = await ctx.docker.objectsNamed(copy);
      const rest = [...after.containers, ...after.volumes, ...after.networks];
      if (rest.length) throw new AppError("check_failed", `could not remove ${rest.join(", ")}`);
      const made = [...left.containers, ...left.volumes, ...left.networks];
      return `removed ${made.length ? made.join(", ") : "nothing docker-side"} and ${dir}`;
    } finally {
      // The decrypted config, password and credentials go whatever docker said.
      await kopia?.disconnect().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  };
  let cleaned = "";
  const compensation = ctx.lifecycle.register("remove what dr drill made", PRIORITY.cleanup, async () => {
    cleaned = await cleanup();
  });

  let bundle: OpenedBundle | undefined;
  let env: Record<string, string> = {};
  let configFile = "";
  let point: RestorePoint | undefined;
  try {
    await step("decrypt", async () => {
      bundle = await openBundle(new Uint8Array(readFileSync(req.file)), req.passphrase);
      result.host = bundle.manifest.host;
      return `${bundle.files.size} files, host ${bundle.manifest.host}, made ${bundle.manifest.created}`;
    });
    await step("connect read-only", async () => {
      const b = madeBy(bundle, "decrypt");
      const files = drillConfig(b.text("config.toml"), b.manifest, dir);
      for (const w of files.writes) {
        mkdirSync(dirname(w.path), { recursive: true, mode: 0o700 });
        writeFileSync(w.path, b.files.get(w.stored) ?? "", { mode: 0o600 });
      }
      writeFileSync(files.configFile, files.configText, { mode: 0o600 });
      configFile = files.configFile;
      const { config } = loadConfig(configFile);
      if (b.files.has("secrets/env"))
        env = drillEnv(
          b.text("secrets/env"),
          b.manifest.env.map((e) => e.variable),
          secretReferences(config).env.map(([, variable]) => variable),
        );
      const password = b.text("secrets/repository.password").trim();
      // The kopia the config picks, as the restore child and recover.sh pick it: not merely PATH's.
      let choice: Promise<KopiaChoice> | undefined;
      const stateDir = join(dir, "state");
      kopia = createKopia(ctx.runner, {
        binary: async () => {
          choice ??= chooseKopia(config.kopia.binary, { runner: ctx.runner, stateDir });
          return (await choice).command;
        },
        configFile: join(dir, "state", "kopia", "repository.config"),
        cacheDir: join(dir, "cache", "kopia"),
        logDir: join(dir, "cache", "kopia-logs"),
        password: () => password,
        hostname: config.repository.hostname,
        username: KOPIA_USERNAME,
      });
      mkdirSync(join(dir, "state", "kopia"), { recursive: true, mode: 0o700 });
      try {
        await connectReadOnly(kopia, config.repository, {
          runner: ctx.runner,
          environ: { ...process.env, ...env },
        });
      } catch (e) {
        if (e instanceof AppError && e.code === "repository_auth")
          throw new AppError(
            "check_failed",
            "the repository refuses the bundle's password: was it changed after this export? export a new bundle",
          );
        throw e;
      }
      return `${config.repository.backend} repository, read-only, as ${config.repository.hostname}`;
    });
    await step("restore points", async () => {
      const b = madeBy(bundle, "decrypt");
      const { points } = groupRestorePoints(
        await madeBy(kopia, "connect read-only").snapshotList({ signal: ctx.lifecycle.signal }),
      );
      const mine = points.filter((p) => p.host === b.manifest.host && !p.phase);
      const unit = req.unit ?? b.manifest.units[0]?.unit;
      if (!unit)
        throw new AppError("check_failed", `no unit of ${b.manifest.host} has a restore point to drill`);
      result.unit = unit;
      point = mine.find((p) => p.unit === unit && p.complete);
      if (!point)
        throw new AppError(
          "check_failed",
          `no complete restore point of ${unit} recorded by ${b.manifest.host}`,
        );
      return `${mine.length} points of ${b.manifest.host}; ${unit}: ${point.key} (${point.timestamp})`;
    });
    await step("verify sample", async () => {
      const p = madeBy(point, "restore points");
      const ids = [p.recipe, p.networks, ...p.volumes, ...p.binds].flatMap((s) => (s ? [s.id] : []));
      const percent = req.verifyPercent ?? 10;
      const v = await madeBy(kopia, "connect read-only").snapshotVerify(ids, percent, {
        signal: ctx.lifecycle.signal,
      });
      if (!v.ok)
        throw new AppError(
          "check_failed",
          `kopia snapshot verify found damage: ${v.errors.join("; ") || "exit status 1"}`,
        );
      return `${ids.length} snapshots of ${p.key}, ${percent}% of file contents read back`;
    });
    await step("restore side by side", async () => {
      const r = await runRestoreCopy(ctx.runner, {
        selfArgv: req.selfArgv,
        configFile,
        host: madeBy(bundle, "decrypt").manifest.host,
        unit: result.unit ?? "",
        copy,
        env,
        signal: ctx.lifecycle.signal,
      });
      result.copy = copy;
      return `as ${copy}: ${r.volumes.length} volumes, ${r.binds.length} binds, started ${r.started.join(", ") || "nothing"}`;
    });
    await step("containers up", async () => {
      const { containers } = await ctx.docker.objectsNamed(copy);
      if (!containers.length)
        throw new AppError("check_failed", `the restore started no container named ${copy}…`);
      const down: string[] = [];
      for (const c of containers) if (!(await ctx.docker.isRunning(c))) down.push(c);
      if (down.length) throw new AppError("check_failed", `not running: ${down.join(", ")}`);
      return `running: ${containers.join(", ")}`;
    });
  } finally {
    const failedBefore = !result.ok;
    result.ok = true;
    await step("clean up", async () => {
      await compensation.run();
      return cleaned;
    });
    result.ok = result.ok && !failedBefore;
  }
  return result;
}
