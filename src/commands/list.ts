import { defineCommand } from "citty";
import { discoverUnits } from "../core/discovery/discover.ts";
import { discoveryForJson } from "../core/discovery/format.ts";
import { renderDiscovery } from "../ui/discovery-report.ts";
import { emit } from "../ui/output.ts";
import { needs } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "list",
    description:
      "Show the backup units on this host: compose projects and standalone containers, their volumes, " +
      "bind mounts and networks, and what is left out and why. Read-only. Exit 0, 14 docker unreachable.",
  },
  args: {
    ...commonArgs,
    sizes: { type: "boolean", description: "Also measure every volume and bind mount (walks the data)" },
  },
  async run({ args }) {
    const ctx = needs(args, "config");
    const discovery = await discoverUnits(
      { docker: ctx.docker, config: ctx.config, log: ctx.log },
      { sizes: Boolean(args.sizes) },
    );
    emit(args, discoveryForJson(discovery), () => renderDiscovery(discovery));
  },
});
