import type { Config } from "../../config/schema.ts";
import type { Logger } from "../log.ts";
import type { Kopia } from "./kopia.ts";
import type { KopiaPolicy } from "./policy-schema.ts";

/** `user@host` this host's snapshots and policies are recorded under (its identity policy's target). */
export const identity = (d: { kopia: Pick<Kopia, "options">; hostname: string }) =>
  `${d.kopia.options.username}@${d.hostname}`;

const RETENTION_FLAGS = [
  ["keepLatest", "--keep-latest"],
  ["keepHourly", "--keep-hourly"],
  ["keepDaily", "--keep-daily"],
  ["keepWeekly", "--keep-weekly"],
  ["keepMonthly", "--keep-monthly"],
  ["keepAnnual", "--keep-annual"],
] as const;

/**
 * The `policy set` flags that bring kopi-docka's identity policy (`kopi-docka@HOST`, which every
 * source of ours inherits) to what a run needs; empty when nothing differs:
 * - retention all zero, so kopia keeps every complete snapshot (its "keep latest unlimited"): kopia
 *   would otherwise expire each source on its own, right after each snapshot, and split restore
 *   points; `[retention]` is applied to whole points by kopi-docka (`restore-points/plan.ts`);
 * - the configured compression;
 * - every file read (`wholeDataFlags`).
 * Never the global policy: others sharing the repository keep theirs, and a kopia server lets a
 * client write only its own user@host policy (the global one: "access denied").
 */
export function identityPolicyFlags(config: Config, current: KopiaPolicy): string[] {
  const flags = [...retentionOffFlags(current), ...wholeDataFlags(current)];
  if (current.compression?.compressorName !== config.repository.compression)
    flags.push(`--compression=${config.repository.compression}`);
  return flags;
}

/**
 * kopia cannot be told to read no ignore file: a list of its own replaces the inherited one, so this
 * is the one it looks for, a name no data holds (`--clear-dot-ignore` would bring `.kopiaignore` back).
 */
export const DOT_IGNORE_PLACEHOLDER = ".kopi-docka-reads-no-ignore-file";

/**
 * The same for ignore rules: the first non-empty list from the source up to the global policy is the
 * one kopia applies, so an empty one inherits a global `--add-ignore '*.db'` (someone else's, on a
 * shared repository) and the point leaves those files out, complete. This anchored name, at a
 * source's root only, is the identity's whole list: a source without configured patterns gets it.
 */
export const IGNORE_RULE_PLACEHOLDER = "/.kopi-docka-ignores-nothing";

/** kopia's "no size limit" above a global one: 8 PiB, the largest size a JSON number keeps exactly. */
export const NO_SIZE_LIMIT = Number.MAX_SAFE_INTEGER;

/**
 * The part of `identityPolicyFlags` that keeps a snapshot whole. kopia's defaults skip what the data
 * itself asks to skip: a `.kopiaignore` file anywhere in the tree, a directory holding `CACHEDIR.TAG`;
 * a global policy may also ignore files by pattern or read errors, skip files above a size, or stay on
 * one filesystem. A
 * container writes into its own volume, so its files would decide what is backed up, with the point
 * reported complete; and a restore (`--delete-extra`) removes what the undo point, under the same
 * policy, left out. What is excluded is the config's to
 * say (`backup.exclude_patterns`, on each source's own policy), never the data's.
 */
export function wholeDataFlags(current: KopiaPolicy): string[] {
  const dot = current.files?.ignoreDotFiles ?? [];
  const rules = current.files?.ignore ?? [];
  return [
    ...(rules.includes(IGNORE_RULE_PLACEHOLDER) ? [] : [`--add-ignore=${IGNORE_RULE_PLACEHOLDER}`]),
    ...rules.filter((r) => r !== IGNORE_RULE_PLACEHOLDER).map((r) => `--remove-ignore=${r}`),
    ...(dot.includes(DOT_IGNORE_PLACEHOLDER) ? [] : [`--add-dot-ignore=${DOT_IGNORE_PLACEHOLDER}`]),
    ...dot.filter((f) => f !== DOT_IGNORE_PLACEHOLDER).map((f) => `--remove-dot-ignore=${f}`),
    ...(current.files?.ignoreCacheDirs === false ? [] : ["--ignore-cache-dirs=false"]),
    // 0 means "inherit" to kopia, so a global limit would apply: the largest size JSON keeps exactly.
    ...(current.files?.maxFileSize === NO_SIZE_LIMIT ? [] : [`--max-file-size=${NO_SIZE_LIMIT}`]),
    ...(current.files?.oneFileSystem === false ? [] : ["--one-file-system=false"]),
    ...(current.errorHandling?.ignoreFileErrors === false ? [] : ["--ignore-file-errors=false"]),
    ...(current.errorHandling?.ignoreDirectoryErrors === false ? [] : ["--ignore-dir-errors=false"]),
  ];
}

/**
 * Read-before-write of `wholeDataFlags` alone on `target` (`user@host`): what a restore needs before
 * its undo snapshots (on a host no backup has run on yet, the identity policy was never written).
 */
export async function applyWholeData(kopia: Kopia, target: string, log: Logger): Promise<void> {
  await applyPolicyFlags(kopia, target, log, wholeDataFlags);
}

/**
 * The retention part of `identityPolicyFlags`: every `--keep-*` not yet zero, and identical snapshots
 * saved (a global `--ignore-identical-snapshots` would have kopia save nothing for an idle source: no
 * manifest, so every night's backup of it failed).
 */
export function retentionOffFlags(current: KopiaPolicy): string[] {
  return [
    ...RETENTION_FLAGS.filter(([field]) => current.retention?.[field] !== 0).map(([, flag]) => `${flag}=0`),
    ...(current.retention?.ignoreIdenticalSnapshots === false ? [] : ["--ignore-identical-snapshots=false"]),
  ];
}

/**
 * The `policy set` flags that make a source's own ignore list exactly the configured patterns: missing
 * ones added, ones no longer configured removed (a pattern dropped from the config must stop excluding
 * data). kopi-docka owns the ignore list of the sources it records.
 */
export function ignoreRuleFlags(patterns: readonly string[], defined: KopiaPolicy | undefined): string[] {
  const have = new Set(defined?.files?.ignore ?? []);
  const want = new Set(patterns);
  return [
    ...[...want].filter((p) => !have.has(p)).map((p) => `--add-ignore=${p}`),
    ...[...have].filter((p) => !want.has(p)).map((p) => `--remove-ignore=${p}`),
  ];
}

/**
 * The defined policies (`policy export`) of single sources of `me` (`user@host`) that keep some snapshots by
 * count or bucket: they override the identity's retention off, so kopia applies them on its own after
 * each snapshot, splitting restore points, and a complete warm pass would take one of their slots. Pure.
 */
export function ownRetention(defined: Record<string, KopiaPolicy>, me: string): string[] {
  return Object.entries(defined)
    .filter(([t, p]) => t.startsWith(`${me}:`) && RETENTION_FLAGS.some(([f]) => (p.retention?.[f] ?? 0) > 0))
    .map(([t]) => t);
}

/**
 * Read-before-write of `identityPolicyFlags` on `target` (`user@host`): the policy as defined
 * (`current`, e.g. from a `policy export` already under way; else one `policy show`), and a `policy
 * set` only for values that differ, because every write costs a repository round trip. Returns the
 * flags written.
 */
export async function applyIdentityPolicy(
  kopia: Kopia,
  config: Config,
  target: string,
  log: Logger,
  current?: Promise<KopiaPolicy>,
): Promise<string[]> {
  return applyPolicyFlags(kopia, target, log, (c) => identityPolicyFlags(config, c), current);
}

/** One `policy set` of the flags `flagsFor` finds missing in `target`'s policy; none when none are. */
async function applyPolicyFlags(
  kopia: Kopia,
  target: string,
  log: Logger,
  flagsFor: (current: KopiaPolicy) => string[],
  current?: Promise<KopiaPolicy>,
): Promise<string[]> {
  const flags = flagsFor(await (current ?? kopia.policyShow(target)));
  if (flags.length === 0) return [];
  log.info(`updating ${target}'s kopia policy: ${flags.join(" ")}`);
  await kopia.policySet(target, flags);
  return flags;
}

/**
 * Read-before-write of `backup.exclude_patterns` as the ignore rules of one recorded source: compares
 * with the source's own policy in `defined` (all defined policies, `Kopia.policyDefinedAll`, read once
 * per run; never the effective one, which mixes in the global rules) and writes only when the lists
 * differ, noting the new list in `defined` for a later unit that records the same source.
 */
export async function applyIgnoreRules(
  kopia: Kopia,
  defined: Record<string, KopiaPolicy>,
  source: string,
  patterns: readonly string[],
): Promise<string[]> {
  const current = defined[source];
  const flags = ignoreRuleFlags(patterns, current);
  if (flags.length === 0) return flags;
  await kopia.policySet(source, flags);
  defined[source] = { ...current, files: { ...current?.files, ignore: [...new Set(patterns)] } };
  return flags;
}
