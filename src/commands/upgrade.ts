import { defineCommand } from "citty";
import { UsageError } from "../core/errors.ts";
import { embeddedKopia } from "../core/kopia/embedded.ts";
import { DEFAULT_RELEASE_URL, detectVariant, releaseUrl } from "../core/upgrade/release.ts";
import { rollback, type UpgradeSource, upgrade } from "../core/upgrade/upgrade.ts";
import { unitDirArgs } from "../systemd/args.ts";
import { installedServices } from "../systemd/files.ts";
import { emit } from "../ui/output.ts";
import { upgradeText } from "../ui/upgrade-report.ts";
import { VERSION } from "../version.ts";
import { lockContext, needs, requireRoot } from "./_context.ts";
import { commonArgs, dryRunArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "upgrade",
    description:
      "Replace this binary with a release's (checked against its SHA256SUMS), or put the previous one back. Exit 0, 11 while a backup runs.",
  },
  args: {
    ...commonArgs,
    ...dryRunArgs,
    "release-url": {
      type: "string",
      description: `Where releases live (default $KOPI_DOCKA_RELEASE_URL, else ${DEFAULT_RELEASE_URL})`,
      valueHint: "url",
    },
    version: { type: "string", description: 'The release to install (default "latest")', valueHint: "v" },
    binary: {
      type: "string",
      description: "Install this file instead (air-gapped; its SHA256SUMS beside it is checked)",
      valueHint: "file",
    },
    rollback: { type: "boolean", description: "Put back the binary the last upgrade replaced" },
    // The config the installed units name is checked too, and its lock held.
    ...unitDirArgs,
  },
  async run({ args }) {
    if (!Bun.isStandaloneExecutable) {
      throw new UsageError(
        "upgrade replaces the installed binary; this is running from source",
        "update the checkout instead",
      );
    }
    if (args.binary && (args["release-url"] || args.version)) {
      throw new UsageError("--binary and --release-url/--version name two sources", "give one of them");
    }
    if (args.rollback && (args["dry-run"] || args.binary || args.version || args["release-url"]))
      throw new UsageError(
        "--rollback puts back the kept binary; it takes no --dry-run, --binary, --version or --release-url",
        "run `kopi-docka upgrade --rollback` alone",
      );
    if (!args["dry-run"]) requireRoot("upgrade", "it replaces the installed binary");
    const target = process.execPath;
    const services = installedServices(args["unit-dir"]);
    if (args.rollback) {
      const lc = lockContext(args);
      const own = { lockFile: lc.lockFile, ...(lc.configPath ? { configPath: lc.configPath } : {}) };
      await rollback({ target, ...own, services }, lc.log);
      lc.log.success(`rolled back ${target} (the replaced binary is kept as ${target}.previous)`);
      return;
    }
    const ctx = needs(args, "config");
    const source: UpgradeSource = args.binary
      ? { kind: "file", path: args.binary }
      : {
          kind: "release",
          url: releaseUrl(args["release-url"]),
          version: args.version || "latest",
          variant: detectVariant(),
          // Keep the kind the admin chose: a full binary upgrades to the full one.
          full: embeddedKopia() !== undefined,
        };
    const result = await upgrade(
      {
        target,
        source,
        lockFile: ctx.paths.lockFile,
        dryRun: Boolean(args["dry-run"]),
        ...(ctx.configPath ? { configPath: ctx.configPath } : {}),
        services,
      },
      { runner: ctx.runner, log: ctx.log, current: VERSION },
    );
    emit(args, result, upgradeText);
  },
});
