import { defineCommand } from "citty";
import { readVersions } from "../core/versions.ts";
import { emit } from "../ui/output.ts";
import { renderVersions } from "../ui/version-report.ts";
import { COMMIT, VERSION } from "../version.ts";
import { type BaseContext, type ConfigContext, defaultKopiaChoice, needs } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "version",
    description:
      "Print the versions of kopi-docka, kopia (which one runs, and from where), docker and compose. Exit 0.",
  },
  args: { ...commonArgs },
  async run({ args }) {
    // The config only says which kopia to use; a missing or broken one must not hide the versions.
    let ctx: BaseContext & Partial<Pick<ConfigContext, "kopiaChoice">>;
    try {
      ctx = needs(args, "config");
    } catch {
      ctx = needs(args, "none");
    }
    const kopiaChoice = ctx.kopiaChoice ?? defaultKopiaChoice(ctx.runner);
    const info = await readVersions(
      { docker: ctx.docker, kopiaChoice },
      { version: VERSION, commit: COMMIT },
    );
    emit(args, info, renderVersions);
  },
});
