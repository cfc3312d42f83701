import { defineCommand } from "citty";
import { maskUrl } from "../core/alerts/mask.ts";
import { testMessage } from "../core/alerts/message.ts";
import { parseTarget } from "../core/alerts/parse.ts";
import { expand, processSecrets, resolveTargets } from "../core/alerts/resolve.ts";
import { sendAll, sendOptions } from "../core/alerts/send.ts";
import { AppError, UsageError } from "../core/errors.ts";
import { renderSendResults } from "../ui/alerts-report.ts";
import { emit } from "../ui/output.ts";
import { needs } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

const test = defineCommand({
  meta: {
    name: "test",
    description:
      "Send a test message to every [alerts] notify target (or to --url). Exit 0 all delivered, 1 one failed.",
  },
  args: {
    ...commonArgs,
    url: {
      type: "string",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's variable syntax, shown to the user
      description: "Only this URL (${VAR} expanded: keep secrets out of the command line)",
      valueHint: "url",
    },
  },
  async run({ args }) {
    const ctx = needs(args, "config");
    const src = processSecrets();
    const targets = args.url
      ? [parseTarget(expand(args.url, maskUrl(args.url), src), "always", ctx.hostname)]
      : resolveTargets(ctx.config.alerts, src, ctx.hostname);
    if (targets.length === 0)
      throw new UsageError(
        "no notification target configured",
        "add [[alerts.notify]] url = … or pass --url",
      );
    const results = await sendAll(targets, testMessage(ctx.hostname), sendOptions(ctx.config));
    emit(args, results, renderSendResults);
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0)
      throw new AppError("check_failed", `${failed.length} of ${results.length} target(s) failed`);
  },
});

export default defineCommand({
  meta: { name: "notify", description: "Notification targets ([alerts] in the config)." },
  subCommands: { test },
});
