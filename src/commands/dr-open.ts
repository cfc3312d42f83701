import { defineCommand } from "citty";
import { readPrivatePassphrase } from "../core/dr/export.ts";
import { type UnpackResult, unpackBundleTo } from "../core/dr/unpack-to.ts";
import { UsageError } from "../core/errors.ts";
import { askPassphrase } from "../ui/dr-report.ts";
import { emit } from "../ui/output.ts";
import { needs } from "./_context.ts";
import { jsonArgs, logArgs } from "./_shared.ts";

/** Where the files are and what to run next (stdout; no secret). */
function renderOpen(r: UnpackResult): string[] {
  return [
    `opened the bundle of ${r.host} (made ${r.created}) into ${r.dir}: ${r.files.length} files, private (0600/0700)`,
    `read:  ${r.dir}/README.txt`,
    `next (as root):  ${r.next}`,
    `delete ${r.dir} once the host runs again: it holds every secret of the repository`,
  ];
}

export default defineCommand({
  meta: {
    name: "open",
    description:
      "Decrypt a DR bundle with this binary alone (no age needed): check every file against SHA256SUMS, " +
      "then write them into --to (new or empty; 0700, files 0600). Exit 0 written, 1 wrong passphrase or " +
      "damaged bundle (nothing written), 2 bad flags or non-empty --to.",
  },
  args: {
    ...logArgs,
    ...jsonArgs,
    file: { type: "positional", description: "The bundle (.age)", required: true },
    to: { type: "string", description: "Directory to write the files into (new or empty)", valueHint: "dir" },
    "passphrase-file": {
      type: "string",
      description: "Passphrase from this file, mode 0600 (default: asked on a terminal)",
      valueHint: "file",
    },
  },
  async run({ args }) {
    if (!args.to) throw new UsageError("missing --to DIR: where to write the bundle's files");
    const ctx = needs(args, "none");
    let passphrase: string;
    if (args["passphrase-file"]) passphrase = readPrivatePassphrase(args["passphrase-file"]);
    else if (ctx.interactive) passphrase = await askPassphrase("open");
    else throw new UsageError("no passphrase: pass --passphrase-file (there is no terminal to ask on)");
    const result = await unpackBundleTo(ctx, { file: args.file, passphrase, to: args.to });
    emit(args, result, renderOpen);
  },
});
