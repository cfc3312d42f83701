import { defineCommand } from "citty";
import { connectRepository, disconnectRepository, initRepository } from "../core/repository/manage.ts";
import { repositoryStatus } from "../core/repository/status.ts";
import { printJson, printLine } from "../ui/output.ts";
import { renderRepositoryStatus } from "../ui/repo-status.ts";
import { buildContext, requireRoot } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

const init = defineCommand({
  meta: {
    name: "init",
    description:
      "Create the configured repository (or connect when one is there; never overwrites). Exit 0, 2 config, 10 repository, 12 password.",
  },
  args: { ...commonArgs },
  async run({ args }) {
    requireRoot("repo init", "it writes the repository password and kopi-docka's state");
    const ctx = buildContext(args);
    const r = await initRepository(ctx);
    if (args.json) printJson(r);
    else printLine(`${r.created ? "created" : "connected to"} the repository at ${r.location}`);
  },
});

const connect = defineCommand({
  meta: {
    name: "connect",
    description: "Connect to the configured, existing repository (never creates one). Exit 0, 2, 10, 12.",
  },
  args: { ...commonArgs },
  async run({ args }) {
    requireRoot("repo connect", "it writes kopi-docka's state");
    const ctx = buildContext(args);
    const r = await connectRepository(ctx);
    if (args.json) printJson(r);
    else printLine(`connected to the repository at ${r.location}`);
  },
});

const disconnect = defineCommand({
  meta: { name: "disconnect", description: "Forget kopia's connection and its cache here. Exit 0." },
  args: { ...commonArgs },
  async run({ args }) {
    requireRoot("repo disconnect", "it removes kopi-docka's state");
    const ctx = buildContext(args);
    const r = await disconnectRepository(ctx);
    if (args.json) printJson(r);
    else printLine(r.wasConnected ? `disconnected from ${r.location}` : "was not connected");
  },
});

const status = defineCommand({
  meta: {
    name: "status",
    description: "Backend, location (no secrets), connection, snapshots, units, size, maintenance. Exit 0.",
  },
  args: { ...commonArgs },
  async run({ args }) {
    const ctx = buildContext(args);
    const r = await repositoryStatus(ctx);
    if (args.json) printJson(r);
    else printLine(renderRepositoryStatus(r));
  },
});

export default defineCommand({
  meta: { name: "repo", description: "The kopia repository: init, connect, disconnect, status." },
  subCommands: { init, connect, disconnect, status },
});
