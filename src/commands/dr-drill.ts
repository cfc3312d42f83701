import { defineCommand } from "citty";
import { runDrill } from "../core/dr/drill.ts";
import { readPrivatePassphrase } from "../core/dr/export.ts";
import { AppError, UsageError } from "../core/errors.ts";
import { askPassphrase, renderDrill } from "../ui/dr-report.ts";
import { emit } from "../ui/output.ts";
import { needs, requireRoot } from "./_context.ts";
import { selfArgv } from "./_self.ts";
import { jsonArgs, logArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "drill",
    description:
      "Prove a DR bundle works without touching the live setup: decrypt, connect read-only, verify a sample, " +
      "restore one unit side by side (--as), check it runs, remove it. Exit 0 passed, 1 failed, 2 bad flags.",
  },
  args: {
    ...logArgs,
    ...jsonArgs,
    file: { type: "positional", description: "The bundle (.age)", required: true },
    "passphrase-file": {
      type: "string",
      description: "Passphrase from this file (default: asked on a terminal)",
      valueHint: "file",
    },
    unit: {
      type: "string",
      description: "Unit to restore (default: the first in the bundle)",
      valueHint: "name",
    },
  },
  async run({ args }) {
    requireRoot("dr drill", "it restores a unit side by side and starts its containers");
    const ctx = needs(args, "none");
    let passphrase: string;
    if (args["passphrase-file"]) passphrase = readPrivatePassphrase(args["passphrase-file"]);
    else if (ctx.interactive) passphrase = await askPassphrase();
    else throw new UsageError("no passphrase: pass --passphrase-file (there is no terminal to ask on)");
    const result = await runDrill(ctx, {
      file: args.file,
      passphrase,
      unit: args.unit,
      selfArgv: selfArgv(),
    });
    emit(args, result, renderDrill);
    if (!result.ok) throw new AppError("check_failed", "the drill failed: see the table above");
  },
});
