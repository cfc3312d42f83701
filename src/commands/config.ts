import { resolve } from "node:path";
import { defineCommand } from "citty";
import { stringify } from "smol-toml";
import { DEFAULT_CONFIG_PATH } from "../config/load.ts";
import { maskSecrets } from "../config/mask.ts";
import { writeConfigTemplate } from "../config/write.ts";
import { checkConfigCalendar } from "../systemd/settings.ts";
import { emit } from "../ui/output.ts";
import { needs, requireRoot } from "./_context.ts";
import { commonArgs, configArgs, jsonArgs, logArgs } from "./_shared.ts";

const show = defineCommand({
  meta: {
    name: "show",
    description: "Print the effective configuration, secrets masked. Exit 0, or 2 if invalid.",
  },
  args: { ...configArgs, ...jsonArgs },
  run({ args }) {
    const ctx = needs(args, "config");
    emit(args, { path: ctx.configPath ?? null, config: maskSecrets(ctx.config) }, (v) => [
      `# ${v.path ?? "no config file: embedded defaults"}`,
      stringify(v.config),
    ]);
  },
});

const validate = defineCommand({
  meta: {
    name: "validate",
    description: "Check the config file. Exit 0 valid, 2 invalid (every problem listed).",
  },
  args: { ...commonArgs },
  async run({ args }) {
    const ctx = needs(args, "config");
    const file = ctx.configPath ? resolve(ctx.configPath) : undefined;
    await checkConfigCalendar(ctx.runner, ctx.config, file, (m) => ctx.log.warn(m));
    // The text form is a log line (stderr), so nothing is rendered on stdout.
    emit(args, { valid: true, path: ctx.configPath ?? null }, (v) => {
      ctx.log.success(`${v.path ?? "embedded default config"} is valid`);
      return [];
    });
  },
});

const path = defineCommand({
  meta: { name: "path", description: "Print the config file path in use (and whether it exists). Exit 0." },
  args: { ...configArgs, ...jsonArgs },
  run({ args }) {
    const ctx = needs(args, "config");
    emit(args, { path: ctx.expectedConfigPath, exists: ctx.configPath !== undefined }, (v) => v.path);
  },
});

const init = defineCommand({
  meta: {
    name: "init",
    description: "Write a commented default config file. Exit 0, or 2 if it exists (use --force).",
  },
  args: {
    ...configArgs,
    ...logArgs,
    force: {
      type: "boolean",
      description: "Overwrite an existing file (the old one is kept as <file>.bak-<time>)",
    },
  },
  run({ args }) {
    const target = args.config || process.env.KOPI_DOCKA_CONFIG || DEFAULT_CONFIG_PATH;
    if (target.startsWith("/etc/")) requireRoot("config init", `${target} is only writable by root`);
    const { backup } = writeConfigTemplate(target, Boolean(args.force));
    const { log } = needs(args, "none");
    if (backup) log.info(`kept the previous file as ${backup}`);
    log.success(`wrote ${target}`);
  },
});

export default defineCommand({
  meta: { name: "config", description: "Show, check, locate or create the configuration file." },
  subCommands: { show, validate, path, init },
});
