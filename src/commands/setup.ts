import { defineCommand } from "citty";
import { parseConfigText } from "../config/load.ts";
import {
  checkExportRequest,
  checkSetupBundleFile,
  exportBundle,
  setupDoneExportFailed,
} from "../core/dr/export.ts";
import { UsageError } from "../core/errors.ts";
import { backendFlagArgs } from "../core/setup/backends.ts";
import { commitSetup } from "../core/setup/commit.ts";
import { answersFromFlags, checkFlags, type SetupFlags } from "../core/setup/flags.ts";
import type { SetupAnswers } from "../core/setup/model.ts";
import { passwordOpens, probeFilesystem, probeRemote, repositoryOf } from "../core/setup/probe.ts";
import { checkDependencies, setupDryRun } from "../core/setup/steps.ts";
import { checkUnattended, configTextFor, currentConfig } from "../core/setup/unattended.ts";
import { checkOnCalendar } from "../systemd/schedule.ts";
import { setupDoneTimerFailed, setupTimerArgv } from "../systemd/setup-timer.ts";
import { showPassphraseOnce } from "../ui/dr-report.ts";
import { emit } from "../ui/output.ts";
import { renderSetup, showPasswordOnce } from "../ui/setup-report.ts";
import { setupWizard } from "../ui/setup-wizard.ts";
import { VERSION } from "../version.ts";
import { needs, requireRoot } from "./_context.ts";
import { selfArgv } from "./_self.ts";
import { commonArgs, stringArg } from "./_shared.ts";

const str = (description: string, valueHint?: string) => ({
  type: "string" as const,
  description,
  valueHint,
});
const KEEP = ["latest", "hourly", "daily", "weekly", "monthly", "annual"] as const;

export default defineCommand({
  meta: {
    name: "setup",
    description:
      "First-run setup: dependencies, repository (new or existing), password, retention, schedule, notifications, " +
      "a dry run, then the config. A wizard on a terminal; every answer is also a flag. Exit 0, 2 missing flags, 11 locked, 12 wrong password, 130 cancelled.",
  },
  args: {
    ...commonArgs,
    ...backendFlagArgs(),
    backend: str(
      "Where backups go: filesystem (default), sftp, s3, b2, azure, gcs, rclone, webdav, server",
      "name",
    ),
    "repository-path": str(
      "Repository directory (new: created; existing: connected, never overwritten)",
      "dir",
    ),
    "password-file": str("Repository password file (existing: its password is used)", "file"),
    "generate-password": {
      type: "boolean",
      description: "Generate a password when the password file does not exist",
    },
    hostname: str("Host name recorded on snapshots (default: this machine's)", "name"),
    compression: str("Compression (default zstd)", "algo"),
    ...Object.fromEntries(KEEP.map((k) => [`keep-${k}`, str(`Snapshots to keep: ${k}`, "N")])),
    "state-dir": str("State directory (default /var/lib/kopi-docka)", "dir"),
    "cache-dir": str("Cache directory (default /var/cache/kopi-docka)", "dir"),
    "lock-file": str("Host-wide lock file (default /run/kopi-docka/kopi-docka.lock)", "file"),
    "restore-dir": str("Where restore puts compose files by default (default /opt/stacks)", "dir"),
    "on-calendar": str("Install the systemd timer with this OnCalendar", "expr"),
    schedule: { type: "boolean", description: "Install the systemd timer (--no-schedule: do not)" },
    "dr-bundle": str("Write a DR bundle (dr export) to this file right after setup", "file"),
    "dr-passphrase-file": str("The DR bundle's passphrase (default: generated, shown once)", "file"),
    "notify-url": str(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${file:…} syntax, shown as is
      "Notification URL for failures (ntfy://, mailto://, …); a token in it: '${file:/path}' reads it from a 0600 file",
      "url",
    ),
    force: { type: "boolean", description: "Replace an existing config (kept as <file>.bak-<time>)" },
    yes: { type: "boolean", description: "Do not ask; needed without a terminal" },
  },
  async run({ args }) {
    requireRoot("setup", "it writes the config, the repository password and the repository");
    const ctx = needs(args, "none");
    const flags: SetupFlags = {
      backend: args.backend,
      backendFlags: (flag: string) => stringArg(args, flag),
      repositoryPath: args["repository-path"],
      passwordFile: args["password-file"],
      generatePassword: args["generate-password"],
      hostname: args.hostname,
      compression: args.compression,
      keep: Object.fromEntries(KEEP.map((k) => [k, stringArg(args, `keep-${k}`)])),
      paths: {
        state_dir: args["state-dir"],
        cache_dir: args["cache-dir"],
        lock_file: args["lock-file"],
        restore_dir: args["restore-dir"],
      },
      onCalendar: args["on-calendar"],
      schedule: args.schedule,
      notifyUrl: args["notify-url"],
      drBundle: args["dr-bundle"],
      yes: args.yes,
    };
    checkFlags(flags);
    checkSetupBundleFile(flags.drBundle);
    const cur = currentConfig(args.config);
    const start = answersFromFlags(flags, cur.config, {
      configPath: cur.configPath,
      configExists: cur.exists,
    });
    let answers = start.answers;
    let force = Boolean(args.force);
    const checkCalendar = (expr: string) => checkOnCalendar(ctx.runner, expr, (m) => ctx.log.warn(m));
    if (ctx.interactive && start.missing.length > 0) {
      const deps = {
        // The kopia of the config being written (its kopia.binary and state dir), as `--yes` checks.
        checkDependencies: () => checkDependencies({ ...ctx, kopia: { config: cur.config } }),
        probe: probeFilesystem,
        probeRemote: (a: SetupAnswers) => probeRemote(ctx.runner, repositoryOf(a)),
        passwordOpens: (a: SetupAnswers, pw: string) =>
          passwordOpens(ctx.runner, repositoryOf(a), pw, {
            config: parseConfigText(configTextFor(a, cur), a.configPath),
          }),
        dryRun: (a: SetupAnswers) => setupDryRun(ctx.runner, selfArgv(), configTextFor(a, cur)),
        checkCalendar,
        configExists: cur.exists && !force,
      };
      const r = await setupWizard(answers, flags, deps);
      answers = r.answers;
      force ||= r.force;
    } else if (start.missing.length > 0) {
      throw new UsageError(
        `setup has no terminal to ask on; missing: ${start.missing.join(", ")}`,
        "every question is a flag: see `kopi-docka setup --help`",
      );
    } else {
      if (cur.exists && !force)
        throw new UsageError(
          `${cur.configPath} already exists`,
          "pass --force to replace it (the old file is kept as .bak-<time>)",
        );
      await checkUnattended(
        { ...ctx, selfArgv: selfArgv(), checkCalendar },
        answers,
        configTextFor(answers, cur),
      );
    }
    // The bundle's flags are checked before anything is committed: a bad one is exit 2 with nothing done.
    const drRequest = answers.drBundle
      ? {
          output: answers.drBundle,
          passphraseFile: args["dr-passphrase-file"],
          version: VERSION,
          now: new Date(),
          canShowPassphrase: ctx.stderrTerminal,
        }
      : undefined;
    if (drRequest) checkExportRequest(drRequest, "", "--dr-passphrase-file", "--dr-bundle");
    const result = await commitSetup(ctx, answers, {
      configText: configTextFor(answers, cur),
      force,
      now: new Date(),
    });
    let schedule = "not installed";
    let timerFailed: string | undefined;
    if (answers.onCalendar) {
      const r = await ctx.runner.run(setupTimerArgv(selfArgv(), result.configPath), {
        check: false,
        timeoutMs: 120_000,
      });
      if (r.exitCode !== 0) timerFailed = r.stderr.trim() || `systemd install exited ${r.exitCode}`;
      schedule = timerFailed ? "timer not installed" : `timer: ${answers.onCalendar}`;
    }
    let drBundle: string | undefined;
    let failed: unknown;
    try {
      if (drRequest) {
        const app = needs({ config: result.configPath, quiet: args.quiet, verbose: args.verbose }, "reader");
        const b = await exportBundle(app, drRequest);
        for (const w of b.warnings) app.log.warn(w);
        if (b.generatedPassphrase) showPassphraseOnce(b.generatedPassphrase);
        process.stderr.write(`\n${b.instructions}\n`);
        drBundle = b.file;
      }
    } catch (e) {
      failed = e;
    }
    // Setup itself is done: a bundle that failed must not hide the password it generated.
    if (!drBundle && result.generatedPassword)
      showPasswordOnce(result.generatedPassword, result.passwordFile);
    if (failed) throw setupDoneExportFailed(failed);
    const { generatedPassword: _g, ...view } = result;
    emit(args, { ...view, repositoryPath: answers.repositoryPath, schedule, drBundle }, renderSetup);
    if (timerFailed) throw setupDoneTimerFailed(timerFailed, result.configPath);
  },
});
