import { defineCommand } from "citty";
import { sendTestNotifications } from "../core/alerts/notify-test.ts";
import { AppError } from "../core/errors.ts";
import { renderSendResults } from "../ui/alerts-report.ts";
import { emit } from "../ui/output.ts";
import { needs } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

const test = defineCommand({
  meta: {
    name: "test",
    description:
      "Send a test message to every [alerts] notify target (or to --url); a target that got it then gets " +
      "the alerts earlier runs could not deliver to it. Exit 0 all delivered, 1 one failed.",
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
    const results = await sendTestNotifications(ctx, args.url);
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
