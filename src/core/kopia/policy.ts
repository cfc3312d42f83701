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
 * - the configured compression.
 * Never the global policy: others sharing the repository keep theirs, and a kopia server lets a
 * client write only its own user@host policy (the global one: "access denied").
 */
export function identityPolicyFlags(config: Config, current: KopiaPolicy): string[] {
  const flags = retentionOffFlags(current);
  if (current.compression?.compressorName !== config.repository.compression)
    flags.push(`--compression=${config.repository.compression}`);
  return flags;
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
  const flags = identityPolicyFlags(config, await (current ?? kopia.policyShow(target)));
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
