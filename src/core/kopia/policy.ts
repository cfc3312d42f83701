import type { Config } from "../../config/schema.ts";
import type { Logger } from "../log.ts";
import type { Kopia } from "./kopia.ts";
import type { KopiaPolicy } from "./policy-schema.ts";

const RETENTION_FLAGS = [
  ["latest", "keepLatest", "--keep-latest"],
  ["hourly", "keepHourly", "--keep-hourly"],
  ["daily", "keepDaily", "--keep-daily"],
  ["weekly", "keepWeekly", "--keep-weekly"],
  ["monthly", "keepMonthly", "--keep-monthly"],
  ["annual", "keepAnnual", "--keep-annual"],
] as const;

/** The `policy set --global` flags that bring `current` to the config; empty when nothing differs. */
export function globalPolicyFlags(config: Config, current: KopiaPolicy): string[] {
  const flags: string[] = [];
  for (const [key, field, flag] of RETENTION_FLAGS) {
    const want = config.retention[key];
    if (current.retention?.[field] !== want) flags.push(`${flag}=${want}`);
  }
  if ((current.compression?.compressorName ?? "none") !== config.repository.compression)
    flags.push(`--compression=${config.repository.compression}`);
  return flags;
}

/** Patterns to add so every configured exclude is an ignore rule of `current` (never removes any). */
export function missingIgnoreFlags(patterns: readonly string[], current: KopiaPolicy): string[] {
  const have = new Set(current.files?.ignore ?? []);
  return [...new Set(patterns)].filter((p) => !have.has(p)).map((p) => `--add-ignore=${p}`);
}

/**
 * Read-before-write of the global policy (retention from `[retention]`, compression): one `policy show`,
 * and a `policy set` only for values that differ, because every write costs a repository round trip.
 */
export async function applyGlobalPolicy(kopia: Kopia, config: Config, log: Logger): Promise<string[]> {
  const flags = globalPolicyFlags(config, await kopia.policyShow("global"));
  if (flags.length === 0) return [];
  log.info(`updating the repository's global policy: ${flags.join(" ")}`);
  await kopia.policySet("global", flags);
  return flags;
}

/** Read-before-write of `backup.exclude_patterns` as ignore rules of one recorded source. */
export async function applyIgnoreRules(
  kopia: Kopia,
  source: string,
  patterns: readonly string[],
): Promise<string[]> {
  if (patterns.length === 0) return [];
  const flags = missingIgnoreFlags(patterns, await kopia.policyShow(source));
  if (flags.length > 0) await kopia.policySet(source, flags);
  return flags;
}
