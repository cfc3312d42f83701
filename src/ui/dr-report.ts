import * as p from "@clack/prompts";
import type { DrillResult } from "../core/dr/drill.ts";
import type { ExportResult } from "../core/dr/export.ts";
import { InterruptedError } from "../core/errors.ts";
import { formatBytes, renderTable } from "../core/format.ts";

/** What `dr export` prints: where the bundle is and how to open it (never the passphrase). */
export function renderExport(r: ExportResult): string[] {
  return [
    `bundle: ${r.file ?? "(stdout)"} (${formatBytes(r.bytes)}, sha256 ${r.sha256})`,
    ...(r.instructionsFile ? [`how to open it: ${r.instructionsFile}`] : []),
    `units: ${r.units.join(", ") || "(none with a complete restore point)"}`,
    ...r.warnings.map((w) => `warning: ${w}`),
    "",
    r.instructions.trimEnd(),
  ];
}

/**
 * A generated passphrase, shown once on the terminal (stderr, so `--output -` and `--json` stay
 * clean). It is never logged, never written to a file, and cannot be shown again.
 */
export function showPassphraseOnce(passphrase: string): void {
  process.stderr.write(
    [
      "",
      "Passphrase for this bundle (shown once, stored nowhere; write it down or put it in a password manager):",
      "",
      `    ${passphrase}`,
      "",
      "Without it the bundle cannot be opened. Keep it apart from the bundle.",
      "",
    ].join("\n"),
  );
}

/** The drill's pass/fail table and verdict line. */
export function renderDrill(r: DrillResult): string[] {
  const rows = r.checks.map((c) => [c.status.toUpperCase(), c.step, c.detail]);
  return [
    renderTable(["RESULT", "STEP", "DETAIL"], rows),
    "",
    r.ok
      ? `drill passed: ${r.file} brings ${r.unit} of ${r.host} back`
      : `drill FAILED: ${r.checks.find((c) => c.status === "fail")?.step ?? "?"}`,
  ];
}

/** Asks for a bundle's passphrase on the terminal; cancel is exit 130, nothing done. */
export async function askPassphrase(what: "drill" | "open" = "drill"): Promise<string> {
  const v = await p.password({ message: "Bundle passphrase" });
  if (p.isCancel(v)) throw new InterruptedError("SIGINT", `${what} cancelled at the prompt`);
  return v;
}
