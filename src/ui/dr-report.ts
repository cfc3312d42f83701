import type { ExportResult } from "../core/dr/export.ts";
import { formatBytes } from "../core/format.ts";

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
