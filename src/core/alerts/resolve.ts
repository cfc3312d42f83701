import { readFileSync, statSync } from "node:fs";
import type { AlertsConfig } from "../../config/schema.ts";
import { errorMessage } from "../caught.ts";
import { TargetConfigError } from "./errors.ts";
import { maskUrl } from "./mask.ts";
import { parseTarget } from "./parse.ts";
import type { Target } from "./target.ts";

export interface SecretSource {
  env: Record<string, string | undefined>;
  /** Reads a secret file; refuses one that others may read. */
  readSecretFile(path: string): string;
}

/** Reads a file that holds a secret, refusing one readable by group or others (it would leak). */
export function readSecretFile(path: string): string {
  const st = statSync(path);
  if ((st.mode & 0o077) !== 0)
    throw new Error(
      `${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 ${path}`,
    );
  return readFileSync(path, "utf8").trim();
}

export const processSecrets = (): SecretSource => ({ env: process.env, readSecretFile });

/** A `${…}` reference in a URL text: `${file:/abs/path}` or `${VAR}`. */
const REFERENCE = /\$\{([^}]+)\}/g;
const FILE_PREFIX = "file:";

/** The references a URL text holds, as `expand` reads them (the DR bundle carries what they name). */
export function urlReferences(text: string): ({ file: string } | { variable: string })[] {
  return [...text.matchAll(REFERENCE)].map(([, name = ""]) =>
    name.startsWith(FILE_PREFIX) ? { file: name.slice(FILE_PREFIX.length) } : { variable: name },
  );
}

/**
 * `${VAR}` from the environment, `${file:/abs/path}` from a 0600 file. An unset variable is an error:
 * a half-expanded URL would post secrets to the wrong place.
 */
export function expand(text: string, label: string, src: SecretSource): string {
  return text.replace(REFERENCE, (_, name: string) => {
    if (name.startsWith(FILE_PREFIX)) {
      try {
        return encodeURIComponent(src.readSecretFile(name.slice(FILE_PREFIX.length)));
      } catch (e) {
        throw new TargetConfigError(label, errorMessage(e));
      }
    }
    const v = src.env[name];
    if (v === undefined || v === "")
      throw new TargetConfigError(label, `\${${name}} is not set in the environment`, `export ${name}=…`);
    return v;
  });
}

/** The resolved URL of one `[[alerts.notify]]` entry (secrets in it: never show it). */
export function entryUrl(entry: AlertsConfig["notify"][number], src: SecretSource): string {
  if (entry.url_file) {
    let text: string;
    try {
      text = src.readSecretFile(entry.url_file);
    } catch (e) {
      throw new TargetConfigError(entry.url_file, errorMessage(e));
    }
    return expand(text, maskUrl(text), src);
  }
  return expand(entry.url ?? "", maskUrl(entry.url ?? ""), src);
}

/** Every configured target, or the first problem found (a typed error naming the masked target). */
export function resolveTargets(alerts: AlertsConfig, src: SecretSource, hostname?: string): Target[] {
  return alerts.notify.map((entry) => parseTarget(entryUrl(entry, src), entry.level, hostname));
}

/**
 * Each target on its own: the ones that resolve, and what is wrong with the others. A run's alert
 * goes to every target that works; one broken entry (a variable unset under the timer) must not
 * silence the rest.
 */
export function resolveEachTarget(
  alerts: AlertsConfig,
  src: SecretSource,
  hostname?: string,
): { targets: Target[]; problems: string[] } {
  const out: { targets: Target[]; problems: string[] } = { targets: [], problems: [] };
  for (const entry of alerts.notify) {
    try {
      out.targets.push(parseTarget(entryUrl(entry, src), entry.level, hostname));
    } catch (e) {
      out.problems.push(errorMessage(e));
    }
  }
  return out;
}

/** The heartbeat URL with variables expanded, or undefined when none is set. */
export function resolvePingUrl(alerts: AlertsConfig, src: SecretSource): string | undefined {
  if (!alerts.ping_url) return undefined;
  const url = expand(alerts.ping_url, maskUrl(alerts.ping_url), src);
  if (!/^https?:\/\/[^/?#]+/.test(url))
    throw new TargetConfigError(maskUrl(url), "ping_url must be an http:// or https:// URL");
  // A trailing slash of the path only: one after a query string belongs to the query.
  const parsed = new URL(url);
  parsed.pathname = parsed.pathname.replace(/\/+$/, "");
  return parsed.toString();
}
