import { defineCommand } from "citty";
import { showDaemonConfig } from "../core/daemon-config/show.ts";
import { renderDaemonConfig } from "../ui/daemon-config-report.ts";
import { emit } from "../ui/output.ts";
import { needs } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

const show = defineCommand({
  meta: {
    name: "show",
    description:
      "Show the Docker daemon config a `--scope full` backup saved (files, daemon.json, how to apply it by hand). Applies nothing. Exit 0, 1 none saved.",
  },
  args: {
    ...commonArgs,
    run: { type: "string", description: "That run's copy (default: this host's newest)", valueHint: "id" },
  },
  async run({ args }) {
    const ctx = needs(args, "reader");
    emit(args, await showDaemonConfig(ctx, { run: args.run }), renderDaemonConfig);
  },
});

export default defineCommand({
  meta: { name: "docker-config", description: "The Docker daemon config saved by `backup --scope full`." },
  subCommands: { show },
});
