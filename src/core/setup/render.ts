import { stringify } from "smol-toml";
import { repositoryKeys } from "../../config/schema-repository.ts";
import { CONFIG_TEMPLATE } from "../../config/template.ts";
import type { SetupAnswers } from "./model.ts";

/** `value` as a TOML literal (smol-toml's own quoting, so any path or URL stays one valid value). */
function literal(value: unknown): string {
  return stringify({ v: value }).replace(/^v = /, "").trim();
}

/**
 * Sets `key` in `[section]`: the key's line (or its commented-out example line, `# key = …`) before the
 * next table header is replaced. With `add` (a user's own config, which may lack the line) a missing
 * key goes right under the header and a missing section at the end; without it (the template) a
 * missing line throws, so a template change cannot make setup silently drop an answer.
 */
export function setKey(
  text: string,
  section: string,
  key: string,
  value: unknown,
  o: { raw?: string; add?: boolean } = {},
): string {
  const line = `${key} = ${o.raw ?? literal(value)}`;
  const lines = text.split("\n");
  const start = lines.indexOf(`[${section}]`);
  if (start < 0) {
    if (o.add) return `${text.replace(/\n*$/, "")}\n\n[${section}]\n${line}\n`;
    throw new Error(`the config template has no [${section}]`);
  }
  for (let i = start + 1; i < lines.length && !/^\[/.test(lines[i] ?? ""); i++) {
    if (new RegExp(`^(# )?${key} = `).test(lines[i] ?? "")) {
      lines[i] = line;
      return lines.join("\n");
    }
  }
  if (!o.add) throw new Error(`the config template has no ${section}.${key}`);
  lines.splice(start + 1, 0, line);
  return lines.join("\n");
}

/** Turns each live `key = …` line of `[section]` whose key `drop` names into a comment. */
export function commentOutKeys(text: string, section: string, drop: (key: string) => boolean): string {
  const lines = text.split("\n");
  const start = lines.indexOf(`[${section}]`);
  for (let i = start + 1; start >= 0 && i < lines.length && !/^\[/.test(lines[i] ?? ""); i++) {
    const key = /^([A-Za-z0-9_]+) = /.exec(lines[i] ?? "")?.[1];
    if (key && drop(key)) lines[i] = `# ${lines[i]}`;
  }
  return lines.join("\n");
}

const inlineTable = (t: Record<string, unknown>) =>
  `{ ${Object.entries(t)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} = ${literal(v)}`)
    .join(", ")} }`;

/** A new failure target next to the ones the config already has (never replacing them). */
function addNotify(
  text: string,
  url: string,
  existing: readonly Record<string, unknown>[],
  add: boolean,
): string {
  if (existing.some((t) => t.url === url)) return text;
  if (/^\[\[alerts\.notify\]\]/m.test(text))
    return `${text.replace(/\n*$/, "")}\n\n[[alerts.notify]]\nurl = ${literal(url)}\nlevel = "failure"\n`;
  const all = [...existing, { url, level: "failure" }].map(inlineTable).join(", ");
  return setKey(text, "alerts", "notify", null, { raw: `[${all}]`, add });
}

/**
 * The config setup writes: the `config init` template with the answers filled in, or, when re-run on
 * a configured host, that host's own config text with the answers set (its comments, units, hooks
 * and everything setup does not ask about kept). The caller parses the result before writing it.
 */
export function renderSetupConfig(
  a: SetupAnswers,
  current?: { text: string; notify: readonly Record<string, unknown>[] },
): string {
  let text = current?.text ?? CONFIG_TEMPLATE;
  const add = current !== undefined;
  const set = (section: string, key: string, value: unknown) => {
    text = setKey(text, section, key, value, { add });
  };
  set("repository", "backend", a.backend);
  if (a.backend === "filesystem") set("repository", "path", a.repositoryPath);
  for (const [k, v] of Object.entries(a.backendOptions))
    if (v !== undefined) text = setKey(text, "repository", k, v, { add: true });
  // Keys of another backend (the template's filesystem `path`, an old backend's bucket) would make
  // the config invalid: commented out, so the text still shows them.
  text = commentOutKeys(text, "repository", (k) => !repositoryKeys(a.backend).has(k));
  set("repository", "password_file", a.passwordFile);
  set("repository", "hostname", a.hostname);
  set("repository", "compression", a.compression);
  for (const [k, v] of Object.entries(a.retention)) set("retention", k, v);
  for (const [k, v] of Object.entries(a.paths)) set("paths", k, v);
  if (a.onCalendar) set("schedule", "on_calendar", a.onCalendar);
  if (a.notifyUrl) text = addNotify(text, a.notifyUrl, current?.notify ?? [], add);
  if (add) return text;
  return text.replace(
    /^# kopi-docka configuration \(TOML\)\./,
    "# kopi-docka configuration (TOML), written by `kopi-docka setup`.",
  );
}
