import { runWithAlerts } from "../core/alerts/around-run.ts";
import { outcomeError } from "../core/backup/result.ts";
import { errorMessage } from "../core/caught.ts";
import type { UsageError } from "../core/errors.ts";
import { exitCodeFor } from "../exit-codes.ts";
import { type AppContext, needs } from "./_context.ts";

/** The words before `--`: after it they are another program's. */
const ownWords = (argv: readonly string[]) =>
  argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv;

/**
 * `--config`'s value when argv gives it once, with a value (`--config x`, `--config=x`). Otherwise
 * undefined, and the config is found as without the flag: KOPI_DOCKA_CONFIG, else the default file.
 */
export function configFlag(argv: readonly string[]): string | undefined {
  const words = ownWords(argv);
  const values = words.flatMap((a, i) =>
    a === "--config" ? [words[i + 1] ?? ""] : a.startsWith("--config=") ? [a.slice("--config=".length)] : [],
  );
  const [only] = values;
  if (values.length !== 1 || only === undefined || only.trim() === "" || only.startsWith("-"))
    return undefined;
  return only;
}

/**
 * A `backup` whose command line does not parse (an unknown flag, a bad `--scope`: a timer's override
 * or a cron line) fails the same way every night. With nobody at the terminal it is the failed run a
 * `--unit` typo is, through the same path (`runWithAlerts`: start, failure alert, end), to the targets
 * of the config the run would have read; no run record, no kopia. The alert quotes the parse error,
 * which names the bad flag (its value only when that is what is bad: `--scope weird`) or the stray
 * word, never another flag's value. Nothing is sent where the command itself
 * would have sent nothing: a dry run, a run that is not root, a config that does not load, no config
 * file (no target to tell). Never throws: the exit stays the usage error's.
 */
export async function alertUnparsedBackup(argv: readonly string[], error: UsageError): Promise<void> {
  const words = ownWords(argv);
  if (words.some((a) => a === "--dry-run" || a.startsWith("--dry-run="))) return;
  let ctx: AppContext;
  try {
    ctx = needs(
      { config: configFlag(words), quiet: words.includes("--quiet"), verbose: words.includes("--verbose") },
      "writer",
      "backup",
    );
  } catch {
    return;
  }
  if (ctx.configPath === undefined) return;
  await runWithAlerts({ ...ctx, exitCodeFor, outcomeError }, () => Promise.reject(error)).catch((e) => {
    if (e !== error) ctx.log.warn(`the failure alert for the command line: ${errorMessage(e)}`);
  });
}
