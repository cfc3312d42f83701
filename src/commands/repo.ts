import { defineCommand } from "citty";
import { connectRepository, disconnectRepository, initRepository } from "../core/repository/manage.ts";
import { repositoryStatus } from "../core/repository/status.ts";
import { emit } from "../ui/output.ts";
import { renderRepositoryStatus } from "../ui/repo-status.ts";
import { needs } from "./_context.ts";
import { commonArgs } from "./_shared.ts";
import { syncCommand } from "./repo-sync.ts";
import { changePasswordCommand, maintenanceCommand, selftestCommand, verifyCommand } from "./repo-tools.ts";

const init = defineCommand({
  meta: {
    name: "init",
    description:
      "Create the configured repository (or connect when one is there; never overwrites). Exit 0, 2 config, 10 repository, 11 locked, 12 password.",
  },
  args: { ...commonArgs },
  async run({ args }) {
    const r = await initRepository(needs(args, "writer", "repo init"));
    emit(args, r, (v) => `${v.created ? "created" : "connected to"} the repository at ${v.location}`);
  },
});

const connect = defineCommand({
  meta: {
    name: "connect",
    description:
      "Connect to the configured, existing repository (never creates one). Exit 0, 2, 10, 11 locked, 12.",
  },
  args: { ...commonArgs },
  async run({ args }) {
    const r = await connectRepository(needs(args, "writer", "repo connect"));
    emit(args, r, (v) => `connected to the repository at ${v.location}`);
  },
});

const disconnect = defineCommand({
  meta: {
    name: "disconnect",
    description: "Forget kopia's connection and its cache on this host. Exit 0, 11 locked.",
  },
  args: { ...commonArgs },
  async run({ args }) {
    const r = await disconnectRepository(needs(args, "writer", "repo disconnect"));
    emit(args, r, (v) => (v.wasConnected ? `disconnected from ${v.location}` : "was not connected"));
  },
});

const status = defineCommand({
  meta: {
    name: "status",
    description:
      "Backend, location (no secrets), connection, snapshots, units, size, maintenance, speed limits. Exit 0.",
  },
  args: { ...commonArgs },
  async run({ args }) {
    emit(args, await repositoryStatus(needs(args, "reader")), renderRepositoryStatus);
  },
});

export default defineCommand({
  meta: {
    name: "repo",
    description:
      "The kopia repository: init, connect, disconnect, status, change-password, verify, maintenance, selftest, sync.",
  },
  subCommands: {
    init,
    connect,
    disconnect,
    status,
    "change-password": changePasswordCommand,
    verify: verifyCommand,
    maintenance: maintenanceCommand,
    selftest: selftestCommand,
    sync: syncCommand,
  },
});
