import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../config/schema.ts";
import { errorMessage } from "../caught.ts";
import { writeFileAtomic } from "../durable.ts";
import { regexLiteral } from "../format.ts";
import { isRecord } from "../guards.ts";
import {
  bundleFileName,
  collectBundleInput,
  type ExportContext,
  readPrivatePassphrase,
  sealBundle,
} from "./export.ts";
import type { BundleInput } from "./model.ts";

export interface AutoExportResult {
  written?: string;
  /** Why no new bundle was written. */
  skipped?: string;
  pruned: string[];
}

/**
 * What decides "the config or the repository changed": the config text, the password, every carried
 * file and variable, where the repository is, and which units there are (recover.sh --restore-all
 * restores those the bundle lists: a unit added since would be left out). Not their restore points (a
 * new one every night is not a reason for a new bundle: restore --latest finds it). Salted with the
 * host name and kept in the 0700 state dir; it never leaves it.
 */
export function bundleFingerprint(input: BundleInput): string {
  const h = createHash("sha256").update(
    `kopi-docka-dr\0${input.host}\0${input.configText}\0${input.password}`,
  );
  for (const f of input.carried) h.update(`\0${f.path}\0`).update(f.data);
  for (const e of input.env) h.update(`\0${e.variable}=${e.value}`);
  const storage = isRecord(input.repositoryStatus) ? input.repositoryStatus.storage : undefined;
  h.update(`\0${JSON.stringify(storage ?? null)}`);
  h.update(`\0${JSON.stringify([...new Set(input.units.map((u) => `${u.host}/${u.unit}`))].sort())}`);
  return h.digest("hex");
}

/**
 * The bundles `export_after_backup` wrote for `host`, oldest first (names sort by time). The whole
 * name is matched: in a directory hosts share, host `web`'s prefix is also `web-prod`'s, whose
 * bundles would have been pruned as `web`'s own (its fresh one first, every time).
 */
export function autoBundles(dir: string, host: string): string[] {
  if (!existsSync(dir)) return [];
  const name = new RegExp(`^kopi-docka-dr-${regexLiteral(host)}-\\d{8}T\\d{6}Z\\.age$`);
  return readdirSync(dir)
    .filter((f) => name.test(f))
    .sort()
    .map((f) => join(dir, f));
}

const stateFile = (stateDir: string) => join(stateDir, "dr", "last-export.json");

/**
 * After a successful backup: a new bundle in `[dr] export_after_backup` when the fingerprint changed
 * (or the last bundle is gone), then all but the newest `keep` removed. Throws like `dr export`; the
 * caller turns that into a warning, never into the backup's exit code.
 */
export async function exportAfterBackup(
  ctx: ExportContext & { config: Config; paths: { stateDir: string } },
  o: { now: Date; version: string },
): Promise<AutoExportResult> {
  const { export_after_backup: dir, keep, passphrase_file } = ctx.config.dr;
  if (!dir) return { skipped: "off", pruned: [] };
  const { input } = await collectBundleInput(ctx, o);
  const fingerprint = bundleFingerprint(input);
  const last = readLast(ctx.paths.stateDir);
  const existing = autoBundles(dir, ctx.hostname);
  if (last?.fingerprint === fingerprint && existing.includes(last.file)) {
    return { skipped: "config and repository unchanged since the last bundle", pruned: [] };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const written = join(dir, bundleFileName(ctx.hostname, o.now));
  await sealBundle(input, readPrivatePassphrase(passphrase_file, "[dr] passphrase_file"), written, true);
  mkdirSync(join(ctx.paths.stateDir, "dr"), { recursive: true, mode: 0o700 });
  writeFileAtomic(stateFile(ctx.paths.stateDir), JSON.stringify({ fingerprint, file: written }), 0o600);
  const all = autoBundles(dir, ctx.hostname);
  const pruned = all.slice(0, Math.max(0, all.length - keep));
  for (const f of pruned) {
    rmSync(f, { force: true });
    rmSync(`${f}.txt`, { force: true });
  }
  return { written, pruned };
}

function readLast(stateDir: string): { fingerprint: string; file: string } | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(stateDir), "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * doctor: with `export_after_backup` set, this host's newest bundle must be newer than the config file
 * and the password file (a change after it means the bundle would bring back the old setup).
 */
export function drFreshness(
  config: Config,
  files: { configPath: string | undefined; passwordFile: string },
  host: string,
): { status: "ok" | "warn"; detail: string; hint?: string } | undefined {
  const dir = config.dr.export_after_backup;
  if (!dir) return undefined;
  const newest = autoBundles(dir, host).pop();
  if (!newest)
    return {
      status: "warn",
      detail: `no DR bundle in ${dir} yet`,
      hint: "run a backup, or `kopi-docka dr export`",
    };
  const bundleTime = statSync(newest).mtimeMs;
  const changed = [files.configPath, files.passwordFile].filter(
    (f): f is string => !!f && existsSync(f) && statSync(f).mtimeMs > bundleTime,
  );
  if (changed.length)
    return {
      status: "warn",
      detail: `the newest DR bundle ${newest} is older than ${changed.join(" and ")}`,
      hint: "the next successful backup writes a new one; or run `kopi-docka dr export` now",
    };
  return { status: "ok", detail: `newest DR bundle ${newest}` };
}

/** The backup command's last step: a refreshed bundle is logged; a failure is a warning, never the exit code. */
export async function refreshAfterBackup(
  ctx: Parameters<typeof exportAfterBackup>[0],
  o: { now: Date; version: string },
): Promise<void> {
  try {
    const r = await exportAfterBackup(ctx, o);
    if (r.written) ctx.log.info(`DR bundle written: ${r.written}`);
    for (const f of r.pruned) ctx.log.info(`old DR bundle removed: ${f}`);
  } catch (e) {
    ctx.log.warn(`the DR bundle was not refreshed: ${errorMessage(e)}`);
  }
}
