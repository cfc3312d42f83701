import { existsSync, readFileSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import { configsToCheck, type InstalledService } from "./configs.ts";
import { holdLocks, locksToTake } from "./locks.ts";
import { artifactName, checkSum, downloadVerified, expectedSum } from "./release.ts";
import { commitBinary, previousPath, rollbackBinary, stageBinary, stagedPath } from "./replace.ts";

export type UpgradeSource =
  | { kind: "release"; url: string; version: string; variant: string; full: boolean }
  | { kind: "file"; path: string };

/** What `--rollback` needs: the binary, and what names every run's lock (`locksToTake`). */
export interface RollbackRequest {
  /** The installed binary to replace (the running one). */
  target: string;
  /** The lock of the config this command read (the default one when it read none). */
  lockFile: string;
  /** The config file this command read, if any. */
  configPath?: string;
  /** The installed services of ours: the lock of the config each reads is held too. */
  services: InstalledService[];
}

/** An upgrade also checks that the new binary accepts `configPath` and each service's config. */
export interface UpgradeRequest extends RollbackRequest {
  source: UpgradeSource;
  dryRun: boolean;
}

export interface UpgradeResult {
  target: string;
  from: string;
  /** What was (or would be) installed: a URL or a file. */
  source: string;
  /** `kopi-docka --version` of the new binary; null on a dry run. */
  installed: string | null;
  previous: string | null;
  changed: boolean;
  dryRun: boolean;
}

/** The new binary's bytes, checked against the SHA256SUMS of its release (or beside the file). */
async function fetchBytes(source: UpgradeSource, log: Logger): Promise<Uint8Array> {
  if (source.kind === "release")
    return downloadVerified(source.url, source.version, artifactName(source.variant, source.full));
  if (!existsSync(source.path))
    throw new AppError("usage", `${source.path} not found`, {
      hint: "--binary takes a kopi-docka binary file",
    });
  const bytes = new Uint8Array(readFileSync(source.path));
  const sums = join(dirname(source.path), "SHA256SUMS");
  if (existsSync(sums))
    checkSum(
      bytes,
      expectedSum(readFileSync(sums, "utf8"), basename(source.path), sums),
      basename(source.path),
    );
  else log.warn(`no SHA256SUMS beside ${source.path}: not verified`);
  return bytes;
}

function describe(source: UpgradeSource): string {
  return source.kind === "file"
    ? source.path
    : `${source.url}/${source.version}/${artifactName(source.variant, source.full)}`;
}

/**
 * Replaces the installed binary with a checked one, under the lock of every config a run on this host
 * reads: a running backup makes it refuse ("locked"), and no backup can start half-way. The new file
 * must run (`--version`) and accept each of those configs before it is renamed in; the old one is
 * kept for `--rollback`.
 * Identical bytes change nothing.
 */
export async function upgrade(
  req: UpgradeRequest,
  deps: { runner: Runner; log: Logger; current: string },
): Promise<UpgradeResult> {
  const base = { target: req.target, from: deps.current, source: describe(req.source), dryRun: req.dryRun };
  const bytes = await fetchBytes(req.source, deps.log);
  if (existsSync(req.target) && Buffer.from(readFileSync(req.target)).equals(Buffer.from(bytes))) {
    return { ...base, installed: deps.current, previous: null, changed: false };
  }
  const configs = configsToCheck(req.configPath, req.services);
  for (const w of configs.warnings) deps.log.warn(w);
  if (req.dryRun) return { ...base, installed: null, previous: previousPath(req.target), changed: true };
  const locks = await takeRunLocks(req, "upgrade", deps.log);
  const staged = stagedPath(req.target);
  try {
    // A write cut short (a full disk) leaves no half file: `finally` removes whatever was staged.
    stageBinary(req.target, bytes);
    const r = await deps.runner.run([staged, "--version"], { check: false, timeoutMs: 60_000 });
    if (r.exitCode !== 0 || !r.stdout.trim()) {
      throw new AppError(
        "check_failed",
        `the new binary does not run here (exit ${r.exitCode}): nothing was changed`,
        {
          hint: "is it built for this CPU? (x64 without AVX2 needs the -baseline build)",
        },
      );
    }
    for (const path of configs.paths) await acceptsConfig(deps.runner, staged, path);
    commitBinary(staged, req.target);
    return { ...base, installed: r.stdout.trim(), previous: previousPath(req.target), changed: true };
  } finally {
    rmSync(staged, { force: true });
    locks.release();
  }
}

/**
 * The new binary reads this host's config as every night's run will. One it rejects (a key renamed
 * or removed) would fail every backup from the next night on: nothing is replaced then.
 */
async function acceptsConfig(runner: Runner, staged: string, configPath: string): Promise<void> {
  const r = await runner.run([staged, "config", "validate", "--config", configPath], {
    check: false,
    timeoutMs: 60_000,
  });
  if (r.exitCode === 0) return;
  const why = `${r.stderr}\n${r.stdout}`.trim().split("\n").filter(Boolean).slice(0, 4).join(" / ");
  throw new AppError("check_failed", `the new binary rejects ${configPath}: nothing was changed (${why})`, {
    hint: "change the config as the new release's notes say (`config validate` with the new file shows what), then upgrade again",
  });
}

/** Puts the kept previous binary back, under every run's lock. */
export async function rollback(req: RollbackRequest, log: Logger): Promise<void> {
  const locks = await takeRunLocks(req, "upgrade --rollback", log);
  try {
    rollbackBinary(req.target);
  } finally {
    locks.release();
  }
}

/** The locks of this command's config and each installed service's, all held or none. */
function takeRunLocks(req: RollbackRequest, command: string, log: Logger) {
  const own = { lockFile: req.lockFile, ...(req.configPath ? { configPath: req.configPath } : {}) };
  const { locks, warnings } = locksToTake(own, req.services);
  for (const w of warnings) log.warn(w);
  return holdLocks(locks, command, log);
}
