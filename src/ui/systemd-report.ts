import type { InstallResult } from "../systemd/install.ts";
import type { SystemdStatus } from "../systemd/status.ts";
import type { UninstallResult } from "../systemd/uninstall.ts";

const WORD = {
  create: "created",
  replace: "replaced",
  unchanged: "unchanged",
  conflict: "differs (needs --force)",
};
const DRY_WORD = {
  create: "would create",
  replace: "would replace",
  unchanged: "unchanged",
  conflict: "differs (needs --force)",
};

function commandsBlock(toRun: string[][], why: string): string[] {
  if (toRun.length === 0) return [];
  return [
    `systemd is not running here (${why}); run these where it does:`,
    ...toRun.map((a) => `  ${a.join(" ")}`),
  ];
}

export function installText(r: InstallResult): string[] {
  const lines = [
    `schedule  OnCalendar=${r.onCalendar} (${r.scheduleFrom}), RandomizedDelaySec=${r.randomizedDelaySec} (${r.randomizedDelayFrom})`,
    `runs      ${r.binary} backup${r.configPath ? ` --config ${r.configPath}` : ""}`,
  ];
  for (const f of r.files) {
    const word = (r.applied ? WORD : DRY_WORD)[f.action];
    lines.push(`${word.padEnd(12)} ${f.path}${f.backup ? ` (old file kept as ${f.backup})` : ""}`);
  }
  if (!r.applied) {
    for (const f of r.files) lines.push("", `# ${f.path}`, f.content.trimEnd());
    return lines;
  }
  for (const argv of r.ran) lines.push(`ran       ${argv.join(" ")}`);
  return [...lines, ...commandsBlock(r.toRun, "no /run/systemd/system")];
}

export function uninstallText(r: UninstallResult): string[] {
  const lines = [
    ...r.removed.map((p) => `removed   ${p}`),
    ...r.kept.map((p) => `kept      ${p} (not written by kopi-docka)`),
    ...r.ran.map((a) => `ran       ${a.join(" ")}`),
  ];
  if (r.removed.length === 0) lines.push(`nothing to remove in ${r.unitDir}`);
  return [...lines, ...commandsBlock(r.toRun, "no /run/systemd/system")];
}

export function statusText(s: SystemdStatus): string[] {
  const lines = s.files.map((f) => `${f.status.padEnd(9)} ${f.path}`);
  if (s.binary) lines.push(`runs      ${s.binary}${s.binaryProblem ? `  PROBLEM: ${s.binaryProblem}` : ""}`);
  if (s.configPath)
    lines.push(`config    ${s.configPath}${s.configExists ? "" : "  PROBLEM: does not exist"}`);
  if (s.onCalendar) {
    const delay = s.randomizedDelaySec ? `, RandomizedDelaySec=${s.randomizedDelaySec}` : "";
    lines.push(`schedule  OnCalendar=${s.onCalendar}${delay}`);
  }
  if (s.files.some((f) => f.status === "outdated"))
    lines.push("run `kopi-docka systemd install --force` to rewrite outdated files");
  else if (s.binary && s.files.some((f) => f.status === "missing"))
    lines.push("run `kopi-docka systemd install` to write the missing files");
  if (!s.systemdRunning) return [...lines, "systemd is not running here: no timer state to show"];
  const t = s.timer;
  const v = s.service;
  if (t)
    lines.push(
      `timer     ${t.activeState ?? "?"} (${t.unitFileState ?? "?"}), last ${t.lastTrigger ?? "never"}, next ${t.nextElapse ?? "-"}`,
    );
  if (v) {
    const last = v.lastStart
      ? `last run ${v.lastStart}: ${v.result ?? "?"}, exit status ${v.lastExitStatus ?? "?"}`
      : "never ran";
    lines.push(`service   ${v.activeState ?? "?"}, ${last}`);
  }
  const f = s.freshness;
  if (f?.lastStart)
    lines.push(
      `freshness last check ${f.lastStart}: ${f.result === "success" ? "every unit in time" : `${f.result ?? "?"} (a unit is overdue, or the check failed: kopi-docka check-freshness)`}`,
    );
  return lines;
}
