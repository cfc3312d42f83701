import { defineCommand } from "citty";
import { readVersions } from "../core/versions.ts";
import { emit } from "../ui/output.ts";
import { renderVersions } from "../ui/version-report.ts";
import { COMMIT, VERSION } from "../version.ts";
import { needs, withComposeChoice } from "./_context.ts";
import { configArgs, jsonArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "version",
    description: "Print the versions of kopi-docka, kopia, docker and compose. Exit 0.",
  },
  args: { ...configArgs, ...jsonArgs },
  async run({ args }) {
    const info = await readVersions(withComposeChoice(args, needs(args, "none")), {
      version: VERSION,
      commit: COMMIT,
    });
    emit(args, info, renderVersions);
  },
});
