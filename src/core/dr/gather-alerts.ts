import { readFileSync } from "node:fs";
import { urlReferences } from "../alerts/resolve.ts";
import { errnoCode, errorMessage } from "../caught.ts";
import { isRecord } from "../guards.ts";

/** What the alert URLs name: files and variables, each with the config key whose URL names it. */
export interface AlertReferences {
  files: [string, string][];
  env: [string, string][];
  warnings: string[];
}

/** A variable recover.sh can export and secrets/env can hold (what `${NAME}` may name there). */
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The `${VAR}` and `${file:/path}` references of the alert URLs, as `core/alerts/resolve.ts` expands
 * them: in `alerts.ping_url`, each `alerts.notify[].url`, and the text of each `url_file` (the file
 * itself is a `*_file` key, carried already). A reference the bundle cannot carry (a relative path, a
 * name no shell variable can have, a `url_file` that cannot be read) is a warning naming it.
 */
export function alertReferences(
  config: unknown,
  readText = (path: string) => readFileSync(path, "utf8"),
): AlertReferences {
  const out: AlertReferences = { files: [], env: [], warnings: [] };
  const alerts = isRecord(config) && isRecord(config.alerts) ? config.alerts : {};
  const urls: [string, string][] = [];
  if (typeof alerts.ping_url === "string") urls.push(["alerts.ping_url", alerts.ping_url]);
  for (const [i, entry] of (Array.isArray(alerts.notify) ? alerts.notify : []).entries()) {
    if (!isRecord(entry)) continue;
    if (typeof entry.url === "string") urls.push([`alerts.notify.${i}.url`, entry.url]);
    if (typeof entry.url_file !== "string" || !entry.url_file.startsWith("/")) continue;
    try {
      urls.push([`alerts.notify.${i}.url_file`, readText(entry.url_file)]);
    } catch (e) {
      // A missing file is already a warning of its own (`*_file` keys); any other failure is this one.
      if (errnoCode(e) !== "ENOENT")
        out.warnings.push(
          `alerts.notify.${i}.url_file: cannot read ${entry.url_file} (${errnoCode(e) ?? errorMessage(e)}); the \${…} references in it are not in the bundle`,
        );
    }
  }
  for (const [key, url] of urls)
    for (const ref of urlReferences(url)) {
      if ("file" in ref) {
        if (ref.file.startsWith("/")) out.files.push([key, ref.file]);
        else
          out.warnings.push(
            `${key}: \${file:${ref.file}} is not an absolute path; that file is not in the bundle`,
          );
      } else if (VARIABLE.test(ref.variable)) out.env.push([key, ref.variable]);
      else
        out.warnings.push(
          `${key}: \${${ref.variable}} names no shell variable; its value is not in the bundle`,
        );
    }
  return out;
}
