/**
 * Pure parsers: values back out of the unit files we wrote (so a re-install keeps the installed
 * schedule and `status` can show what is installed), and `systemctl show -p …` output.
 */

/** The value of the first `Key=value` line (no section tracking: our units use each key once). */
export function unitValue(text: string, key: string): string | undefined {
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && line.slice(0, eq).trim() === key) return line.slice(eq + 1).trim();
  }
  return undefined;
}

/** Splits an Exec= value into words, undoing the quoting `renderServiceUnit` applies. */
export function splitExec(value: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (value[i] === " ") i++;
    if (i >= value.length) break;
    let word = "";
    if (value[i] === '"') {
      i++;
      while (i < value.length && value[i] !== '"') {
        if (value[i] === "\\" && i + 1 < value.length) i++;
        word += value[i++];
      }
      i++;
    } else {
      while (i < value.length && value[i] !== " ") word += value[i++];
    }
    // Undoes `execArg`: `%%` and `$$` are a literal `%` and `$`.
    words.push(word.replace(/%%/g, "%").replace(/\$\$/g, "$"));
  }
  return words;
}

export interface InstalledParams {
  binary?: string;
  configPath?: string;
  onCalendar?: string;
  randomizedDelaySec?: number;
  timeoutStartSec?: number;
}

/** What an installed pair of units was written with; missing pieces stay undefined. */
export function installedParams(service: string | undefined, timer: string | undefined): InstalledParams {
  const params: InstalledParams = {};
  const exec = service ? unitValue(service, "ExecStart") : undefined;
  if (exec) {
    const words = splitExec(exec);
    params.binary = words[0];
    const at = words.indexOf("--config");
    if (at >= 0) params.configPath = words[at + 1];
  }
  const start = service ? unitValue(service, "TimeoutStartSec") : undefined;
  if (start && /^\d+$/.test(start)) params.timeoutStartSec = Number(start);
  const calendar = timer ? unitValue(timer, "OnCalendar") : undefined;
  if (calendar) params.onCalendar = calendar;
  // Only whole seconds (what we write); a hand-edited "30min" is left to the default and the diff.
  const delay = timer ? unitValue(timer, "RandomizedDelaySec") : undefined;
  if (delay && /^\d+$/.test(delay)) params.randomizedDelaySec = Number(delay);
  return params;
}

/** `systemctl show -p A -p B unit…` prints `Key=value` lines, one blank-line separated block per unit. */
export function parseSystemctlShow(text: string): Record<string, string>[] {
  const blocks: Record<string, string>[] = [];
  let current: Record<string, string> | undefined;
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (line.trim() === "" || eq <= 0) {
      if (current) blocks.push(current);
      current = undefined;
      continue;
    }
    current ??= {};
    current[line.slice(0, eq)] = line.slice(eq + 1);
  }
  if (current) blocks.push(current);
  return blocks;
}

/** systemd prints "n/a" or nothing for a time that never happened. */
export function showValue(props: Record<string, string>, key: string): string | null {
  const v = props[key]?.trim();
  return v && v !== "n/a" && v !== "0" ? v : null;
}
