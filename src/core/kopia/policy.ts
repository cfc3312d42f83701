import type { Config } from "../../config/schema.ts";
import type { Logger } from "../log.ts";
import type { Kopia } from "./kopia.ts";
import type { KopiaPolicy } from "./policy-schema.ts";

const RETENTION_FLAGS = [
  ["keepLatest", "--keep-latest"],
  ["keepHourly", "--keep-hourly"],
  ["keepDaily", "--keep-daily"],
  ["keepWeekly", "--keep-weekly"],
  ["keepMonthly", "--keep-monthly"],
  ["keepAnnual", "--keep-annual"],
] as const;

/**
 * The `policy set --global` flags that bring `current` to what kopi-docka wants; empty when nothing
 * differs. Retention all zero: kopia then keeps every complete snapshot (its "keep latest unlimited"),
 * because it expires each source on its own, right after each snapshot, and so splits restore points.
 * `[retention]` is applied to whole points by kopi-docka (`restore-points/plan.ts`, `planExpire`).
 */
export function globalPolicyFlags(config: Config, current: KopiaPolicy): string[] {
  const flags: string[] = [];
  for (const [field, flag] of RETENTION_FLAGS) if (current.retention?.[field] !== 0) flags.push(`${flag}=0`);
  if ((current.compression?.compressorName ?? "none") !== config.repository.compression)
    flags.push(`--compression=${config.repository.compression}`);
  return flags;
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

/** How `policy export` names the global policy. */
export const GLOBAL_TARGET = "(global)";

/**
 * The defined policies (`policy export`) other than the global one that keep some snapshots by count
 * or bucket: kopia applies them to their sources on its own after each snapshot, splitting restore
 * points, and a complete warm pass would take one of their slots. Pure.
 */
export function ownRetention(defined: Record<string, KopiaPolicy>): string[] {
  return Object.entries(defined)
    .filter(([t, p]) => t !== GLOBAL_TARGET && RETENTION_FLAGS.some(([f]) => (p.retention?.[f] ?? 0) > 0))
    .map(([t]) => t);
}

/**
 * Read-before-write of the global policy (retention all zero, compression from the config): the policy as
 * defined (`current`, e.g. from a `policy export` already under way; else one `policy show`), and a
 * `policy set` only for values that differ, because every write costs a repository round trip.
 */
export async function applyGlobalPolicy(
  kopia: Kopia,
  config: Config,
  log: Logger,
  current?: Promise<KopiaPolicy>,
): Promise<string[]> {
  const flags = globalPolicyFlags(config, await (current ?? kopia.policyShow("global")));
  if (flags.length === 0) return [];
  log.info(`updating the repository's global policy: ${flags.join(" ")}`);
  await kopia.policySet("global", flags);
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
