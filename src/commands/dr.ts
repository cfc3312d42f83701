import { defineCommand } from "citty";
import { exportBundle } from "../core/dr/export.ts";
import { renderExport, showPassphraseOnce } from "../ui/dr-report.ts";
import { emit, emitBytes } from "../ui/output.ts";
import { VERSION } from "../version.ts";
import { needs } from "./_context.ts";
import { commonArgs } from "./_shared.ts";
import drill from "./dr-drill.ts";
import open from "./dr-open.ts";

const exportCmd = defineCommand({
  meta: {
    name: "export",
    description:
      "Write an encrypted disaster-recovery bundle (age): config, repository password, credentials, " +
      "unit inventory, recover.sh and README. Exit 0 written, 2 bad flags, 10 repository error.",
  },
  args: {
    ...commonArgs,
    output: {
      type: "string",
      description: "Bundle file, or - for stdout (default ./kopi-docka-dr-<host>-<time>.age)",
      valueHint: "file",
    },
    "passphrase-file": {
      type: "string",
      description: "Passphrase from this file (default: generate one, shown once)",
      valueHint: "file",
    },
  },
  async run({ args }) {
    const ctx = needs(args, "reader");
    const r = await exportBundle(ctx, {
      output: args.output,
      passphraseFile: args["passphrase-file"],
      version: VERSION,
      now: new Date(),
      canShowPassphrase: ctx.stderrTerminal,
      json: Boolean(args.json),
    });
    if (r.generatedPassphrase) showPassphraseOnce(r.generatedPassphrase);
    if (r.data) {
      // stdout is the bundle: what the report would say goes to stderr.
      for (const w of r.warnings) ctx.log.warn(w);
      process.stderr.write(`${r.instructions}\n`);
      return emitBytes(r.data);
    }
    const { data: _d, generatedPassphrase: _p, ...view } = r;
    emit(args, view, () => renderExport(r));
  },
});

export default defineCommand({
  meta: {
    name: "dr",
    description: "Disaster recovery: export a bundle, open one (no age needed), prove one works (drill)",
  },
  subCommands: { export: exportCmd, open, drill },
});
