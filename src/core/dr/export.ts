import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { CONFIG_TEMPLATE } from "../../config/template.ts";
import { errnoCode, errorMessage } from "../caught.ts";
import { AppError, UsageError } from "../errors.ts";
import type { RestoreContext } from "../restore/context.ts";
import { readRestorePoints } from "../restore/session.ts";
import { packBundle } from "./archive.ts";
import { bundleEntries, bundleManifest } from "./contents.ts";
import { encryptBundle, generatePassphrase } from "./crypto.ts";
import { gatherSecrets, latestRunRecords, unitInventory } from "./gather.ts";
import type { BundleInput } from "./model.ts";
import { ManifestSchema } from "./open.ts";
import { openingInstructions } from "./readme.ts";
import { recoveryConfig } from "./recovery-config.ts";
import { writeBytesAtomic } from "./write.ts";

export interface ExportContext extends RestoreContext {
  configPath: string | undefined;
  expectedConfigPath: string;
  paths: RestoreContext["paths"] & { runsDir: string; passwordFile: string };
}

export interface ExportRequest {
  /** A file path, "-" for the bytes alone (the caller writes them to stdout), or undefined: a default name. */
  output: string | undefined;
  passphraseFile: string | undefined;
  version: string;
  now: Date;
  /**
   * A generated passphrase can be shown on a terminal (stderr is one). Without, it would land in a
   * log: `--passphrase-file` is then required.
   */
  canShowPassphrase: boolean;
  /** The report is wanted as JSON on stdout (`--json`): the bundle cannot go there too. */
  json?: boolean;
}

export interface ExportResult {
  /** Where the bundle went; undefined for "-". */
  file?: string;
  /** The opening instructions file beside it. */
  instructionsFile?: string;
  bytes: number;
  sha256: string;
  host: string;
  units: string[];
  carriedFiles: string[];
  warnings: string[];
  /** How to open it (also the .txt's text). */
  instructions: string;
  /** Set only when generated: the caller shows it once; it is never written anywhere. */
  generatedPassphrase?: string;
  /** Set for "-": the bundle itself. */
  data?: Uint8Array;
}

/** A passphrase given in a file: trimmed like the repository password, long enough to resist guessing. */
export function readPassphrase(file: string, key = "--passphrase-file"): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (e) {
    throw new UsageError(`cannot read ${key} ${file} (${errnoCode(e)})`);
  }
  if (text.length < 12)
    throw new UsageError(
      `the passphrase in ${file} is shorter than 12 characters`,
      "use a longer one, or omit --passphrase-file to have one generated",
    );
  return text;
}

/**
 * A passphrase file that opens a bundle: like the repository password file, it must be private
 * (no access for group or others) and owned by the user running kopi-docka (root, for recover.sh).
 */
export function readPrivatePassphrase(file: string, key = "--passphrase-file"): string {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch (e) {
    throw new UsageError(`cannot read ${key} ${file} (${errnoCode(e)})`);
  }
  if ((st.mode & 0o077) !== 0)
    throw new UsageError(
      `${key} ${file} is readable by other users (mode ${(st.mode & 0o777).toString(8)})`,
      `chmod 600 ${file}`,
    );
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw new UsageError(`${key} ${file} is owned by uid ${st.uid}, not ${uid}`, `chown ${uid} ${file}`);
  return readPassphrase(file, key);
}

const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");

/** Everything the bundle holds, read now: the repository (connecting, never creating), config, secrets. */
export async function collectBundleInput(
  ctx: ExportContext,
  o: { now: Date; version: string },
): Promise<{ input: BundleInput; warnings: string[] }> {
  const points = await readRestorePoints(ctx);
  const status = await ctx.kopia.status();
  const configText = ctx.configPath ? readFileSync(ctx.configPath, "utf8") : CONFIG_TEMPLATE;
  // recover.sh puts this text back as is, and the drill runs with it: what works on the old host only
  // is replaced here, once, so both see the same config.
  const recovery = recoveryConfig(configText, ctx.hostname);
  const secrets = gatherSecrets(ctx.config, ctx.paths.passwordFile);
  const password = ctx.kopia.options.password();
  if (!password) throw new AppError("repository", "the repository password is empty");
  const input: BundleInput = {
    createdAt: o.now,
    host: ctx.hostname,
    version: o.version,
    kopiaVersion: await ctx.kopia.version(),
    configPath: ctx.configPath ?? ctx.expectedConfigPath,
    configText: recovery.text,
    passwordFile: ctx.paths.passwordFile,
    password,
    carried: secrets.carried,
    env: secrets.env,
    repositoryStatus: status,
    units: unitInventory(points.points, ctx.hostname),
    runs: latestRunRecords(ctx.paths.runsDir),
  };
  return { input, warnings: [...recovery.notes, ...secrets.warnings] };
}

/** Encrypts the bundle in memory; with a file, writes it (0600) and the opening instructions beside it. */
export async function sealBundle(
  input: BundleInput,
  passphrase: string,
  file: string | undefined,
  passphraseGiven: boolean,
) {
  // A bundle `dr open` would refuse is worthless on the day it is needed: never written.
  const manifest = ManifestSchema.safeParse(bundleManifest(input));
  if (!manifest.success)
    throw new AppError("check_failed", `the bundle would not open (its manifest): ${manifest.error.message}`);
  const sealed = await encryptBundle(packBundle(bundleEntries(input), input.createdAt), passphrase);
  const instructions = openingInstructions(
    file ?? "kopi-docka-dr.age",
    bundleManifest(input),
    passphraseGiven,
  );
  if (file) {
    writeBytesAtomic(file, sealed, 0o600);
    writeBytesAtomic(`${file}.txt`, new TextEncoder().encode(instructions), 0o644);
  }
  return { sealed, instructions };
}

/**
 * What an export's flags decide, checked before anything is read or written (setup checks them
 * before it commits): the passphrase (its file private, or generated where it can be shown) and an
 * output that does not exist yet, in a directory that does.
 */
export function checkExportRequest(
  req: Pick<ExportRequest, "output" | "passphraseFile" | "now" | "canShowPassphrase" | "json">,
  hostname: string,
  flag = "--passphrase-file",
  outputFlag = "--output",
): { passphrase: string; file: string | undefined } {
  if (req.output === "-" && req.json)
    throw new UsageError(
      `${outputFlag} - and --json refuse each other: both would write stdout, and the bundle would be alone there`,
      `write the bundle to a file (${outputFlag} FILE) to get the JSON report, or drop --json`,
    );
  if (!req.passphraseFile && !req.canShowPassphrase)
    throw new UsageError(
      "a generated passphrase is shown once on a terminal, and stderr is not one (a log would keep it)",
      `pass ${flag} FILE: a 0600 file holding a passphrase of 12 or more characters`,
    );
  const passphrase = req.passphraseFile ? readPrivatePassphrase(req.passphraseFile) : generatePassphrase();
  const file = req.output === "-" ? undefined : resolve(req.output ?? bundleFileName(hostname, req.now));
  if (file) checkOutputDir(file, outputFlag);
  for (const f of file ? [file, `${file}.txt`] : [])
    if (existsSync(f))
      throw new UsageError(
        `${f} exists`,
        `choose another ${outputFlag}; an old bundle or its notes are never overwritten`,
      );
  return { passphrase, file };
}

/** The bundle's directory must exist: found when the bundle is written, everything else is done by then. */
function checkOutputDir(file: string, flag: string): void {
  const dir = dirname(resolve(file));
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(
      `${flag} ${file}: ${dir} is not an existing directory`,
      `create it first (mkdir -p ${dir}), or give ${flag} a file in a directory that exists`,
    );
}

/**
 * setup's `--dr-bundle` must name a file: setup's own report is its stdout, so the bundle cannot go
 * there as `dr export --output -` sends it. Checked before any question is asked or anything written.
 */
export function checkSetupBundleFile(file: string | undefined): void {
  if (file === "-")
    throw new UsageError(
      "setup cannot write the DR bundle to stdout (--dr-bundle -): its report goes there",
      "give a file (--dr-bundle /root/kopi-docka-dr.age), or run `kopi-docka dr export --output -` after setup",
    );
  if (file) checkOutputDir(file, "--dr-bundle");
}

/** Setup committed, then its `--dr-bundle` failed: the same failure, saying what is done and what is not. */
export function setupDoneExportFailed(e: unknown): AppError {
  return new AppError(
    e instanceof AppError ? e.code : "check_failed",
    `setup is done (config, repository, password file), but the DR bundle was not written: ${errorMessage(e)}`,
    {
      hint: `${e instanceof AppError && e.hint ? `${e.hint}; then ` : "fix that, then "}run \`kopi-docka dr export --output FILE\``,
      cause: e,
    },
  );
}

export const bundleFileName = (host: string, now: Date) => `kopi-docka-dr-${host}-${stamp(now)}.age`;

/**
 * Builds and writes the bundle: reads the repository (connecting if needed, never creating one), the
 * config, the password and every file and variable the config names, then encrypts the tar in memory
 * and writes it 0600 with the opening instructions beside it. Nothing secret is written unencrypted.
 */
export async function exportBundle(ctx: ExportContext, req: ExportRequest): Promise<ExportResult> {
  const { passphrase, file } = checkExportRequest(req, ctx.hostname);
  const { input, warnings } = await collectBundleInput(ctx, req);
  const { sealed, instructions } = await sealBundle(input, passphrase, file, Boolean(req.passphraseFile));
  return {
    file,
    instructionsFile: file ? `${file}.txt` : undefined,
    bytes: sealed.length,
    sha256: createHash("sha256").update(sealed).digest("hex"),
    host: ctx.hostname,
    units: input.units.map((u) => u.unit),
    carriedFiles: input.carried.map((f) => f.path),
    warnings,
    instructions,
    generatedPassphrase: req.passphraseFile ? undefined : passphrase,
    data: file ? undefined : sealed,
  };
}
