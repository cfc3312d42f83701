import { stringify } from "smol-toml";
import { CONFIG_TEMPLATE } from "../../config/template.ts";
import type { SetupAnswers } from "./model.ts";

/** `value` as a TOML literal (smol-toml's own quoting, so any path or URL stays one valid value). */
function literal(value: unknown): string {
  return stringify({ v: value }).replace(/^v = /, "").trim();
}

/**
 * Sets `key` in `[section]` of the commented template: the key's line (or its commented-out example
 * line, `# key = …`) before the next table header is replaced. Throws when the template has no such
 * line, so a template change cannot make setup silently drop an answer.
 */
export function setKey(text: string, section: string, key: string, value: unknown, raw?: string): string {
  const lines = text.split("\n");
  const start = lines.indexOf(`[${section}]`);
  if (start < 0) throw new Error(`the config template has no [${section}]`);
  for (let i = start + 1; i < lines.length && !/^\[/.test(lines[i] ?? ""); i++) {
    if (new RegExp(`^(# )?${key} = `).test(lines[i] ?? "")) {
      lines[i] = `${key} = ${raw ?? literal(value)}`;
      return lines.join("\n");
    }
  }
  throw new Error(`the config template has no ${section}.${key}`);
}

/** The `config init` template with setup's answers filled in: comments kept, every other key default. */
export function renderSetupConfig(a: SetupAnswers): string {
  let text = CONFIG_TEMPLATE;
  const set = (section: string, key: string, value: unknown) => {
    text = setKey(text, section, key, value);
  };
  set("repository", "backend", a.backend);
  set("repository", "path", a.repositoryPath);
  set("repository", "password_file", a.passwordFile);
  set("repository", "hostname", a.hostname);
  set("repository", "compression", a.compression);
  for (const [k, v] of Object.entries(a.retention)) set("retention", k, v);
  for (const [k, v] of Object.entries(a.paths)) set("paths", k, v);
  if (a.onCalendar) set("schedule", "on_calendar", a.onCalendar);
  if (a.notifyUrl)
    text = setKey(text, "alerts", "notify", null, `[{ url = ${literal(a.notifyUrl)}, level = "failure" }]`);
  return text.replace(
    /^# kopi-docka configuration \(TOML\)\./,
    "# kopi-docka configuration (TOML), written by `kopi-docka setup`.",
  );
}
