import type { UpgradeResult } from "../core/upgrade/upgrade.ts";
import type { Rendered } from "./output.ts";

/** `upgrade`: what replaced what, and how to go back. */
export function upgradeText(r: UpgradeResult): Rendered {
  if (!r.changed) return [`${r.target} is already ${r.source} (kopi-docka ${r.from}): nothing to do`];
  if (r.dryRun)
    return [
      `would replace ${r.target} (kopi-docka ${r.from}) with ${r.source} (checked), keeping the old one as ${r.previous}`,
    ];
  return [
    `upgraded ${r.target}: ${r.from} → ${r.installed}`,
    `the previous binary is kept as ${r.previous} (\`kopi-docka upgrade --rollback\` puts it back)`,
  ];
}
