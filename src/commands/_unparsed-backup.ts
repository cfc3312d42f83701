import { SCOPES } from "../config/schema.ts";
import { runWithAlerts } from "../core/alerts/around-run.ts";
import { outcomeError } from "../core/backup/result.ts";
import { errorMessage } from "../core/caught.ts";
import { UsageError } from "../core/errors.ts";
import { regexLiteral } from "../core/format.ts";
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

/** `--config` is there but gives no one path (twice, empty, a flag after it: `--config ${UNSET}`). */
const configUnusable = (words: readonly string[]) =>
  configFlag(words) === undefined && words.some((a) => a === "--config" || a.startsWith("--config="));

const wordChar = "[\\p{L}\\p{N}_]";

/**
 * `text` with every command-line word that may be a value shown as `…`: a parse error quotes a stray
 * word whole (`KOPIA_PASSWORD=…` put after the command in a cron line, `-p…`), and an alert goes to
 * other people and is kept for days. Shown as they are: a flag's bare name (`--scpe`) and a scope.
 * Of `--name=value` only the value is hidden.
 */
export function withoutValues(text: string, words: readonly string[]): string {
  const hidden = new Set<string>();
  for (const w of words) {
    const flag = /^--[a-z][a-z0-9-]*(?==|$)/i.exec(w)?.[0];
    if (w === flag || (SCOPES as readonly string[]).includes(w)) continue;
    const value = flag ? w.slice(flag.length + 1) : w;
    if (value) hidden.add(value);
  }
  let out = text;
  // Longest first, whole words only: a one-letter value leaves the rest of the text as it is.
  for (const h of [...hidden].sort((a, b) => b.length - a.length)) {
    out = out.replace(new RegExp(`(?<!${wordChar})${regexLiteral(h)}(?!${wordChar})`, "gu"), "…");
  }
  return out;
}

/**
 * A `backup` whose command line does not parse (an unknown flag, a bad `--scope`: a timer's override
 * or a cron line) fails the same way every night. With nobody at the terminal it is the failed run a
 * `--unit` typo is, through the same path (`runWithAlerts`: start, failure alert, end), to the targets
 * of the config the run would have read; no run record, no kopia. The alert quotes the parse error
 * with every word that may be a value hidden (`withoutValues`): it names the bad flag. Nothing is
 * sent where the command itself would have sent nothing (a dry run, a run that is not root, a config
 * that does not load, no config file: no target to tell), nor when `--config` is there but names no
 * one file (`--config ${UNSET}`): another config's targets must not hear of this one's run. Never
 * throws: the exit stays the usage error's.
 */
export async function alertUnparsedBackup(argv: readonly string[], error: UsageError): Promise<void> {
  const words = ownWords(argv);
  if (words.some((a) => a === "--dry-run" || a === "--dry-run=true") || configUnusable(words)) return;
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
  const told = new UsageError(
    withoutValues(error.message, words),
    error.hint === undefined ? undefined : withoutValues(error.hint, words),
  );
  await runWithAlerts({ ...ctx, exitCodeFor, outcomeError }, () => Promise.reject(told)).catch((e) => {
    if (e !== told) ctx.log.warn(`the failure alert for the command line: ${errorMessage(e)}`);
  });
}
