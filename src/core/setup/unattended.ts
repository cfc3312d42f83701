import { existsSync, readFileSync } from "node:fs";
import { DEFAULT_CONFIG_PATH, loadConfig, parseConfigText } from "../../config/load.ts";
import { ConfigSchema } from "../../config/schema.ts";
import { errorMessage } from "../caught.ts";
import type { Docker } from "../docker/docker.ts";
import { AppError, UsageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import type { SetupKopia } from "./kopia.ts";
import type { SetupAnswers } from "./model.ts";
import { passwordOpens, probeFilesystem, repositoryOf } from "./probe.ts";
import { renderSetupConfig } from "./render.ts";
import { checkDependencies, setupDryRun } from "./steps.ts";

export type CurrentConfig = ReturnType<typeof currentConfig>;

/** The current config (re-running setup starts from it), or the defaults when there is none. */
export function currentConfig(path: string | undefined) {
  const configPath = path || process.env.KOPI_DOCKA_CONFIG || DEFAULT_CONFIG_PATH;
  if (!existsSync(configPath)) return { config: ConfigSchema.parse({}), configPath, exists: false };
  const config = loadConfig(configPath).config;
  const base = { text: readFileSync(configPath, "utf8"), notify: config.alerts.notify };
  return { config, configPath, exists: true, base };
}

/** The config text for `a`, checked: answers merged into a hand-edited file must still parse. */
export function configTextFor(a: SetupAnswers, cur: CurrentConfig): string {
  const text = renderSetupConfig(a, cur.base);
  try {
    parseConfigText(text, a.configPath);
  } catch (e) {
    throw new UsageError(
      `setup's answers do not fit into ${a.configPath}: ${errorMessage(e)}`,
      "edit that file by hand, or move it away and run setup again",
    );
  }
  return text;
}

export interface UnattendedDeps {
  runner: Runner;
  docker: Docker;
  log: Logger;
  /** argv that runs this binary (for the dry run). */
  selfArgv: string[];
  /** Tests: the embedded kopia and PATH that `chooseKopia` sees. */
  kopiaSeams?: SetupKopia["seams"];
  /** Rejects an OnCalendar expression systemd would not take (a `UsageError`, exit 2). */
  checkCalendar: (expr: string) => Promise<void>;
}

/** Without a terminal: the same checks the wizard makes, with no one to ask. */
export async function checkUnattended(d: UnattendedDeps, a: SetupAnswers, configText: string): Promise<void> {
  // Before the commit: a calendar found bad by `systemd install` after it leaves a config with no timer.
  if (a.onCalendar) await d.checkCalendar(a.onCalendar);
  // The kopia the written config will run (its kopia.binary and state dir), as every command after.
  const kopia = { config: parseConfigText(configText, a.configPath), seams: d.kopiaSeams };
  for (const line of await checkDependencies({ ...d, kopia })) d.log.info(line);
  const dryRun = async () =>
    d.log.info(`backup --dry-run:\n${await setupDryRun(d.runner, d.selfArgv, configText)}`);
  if (a.backend !== "filesystem") {
    // The live test of a remote location is the commit's own: openRepository looks at it first,
    // connects to a repository there (never overwrites), refuses foreign data, creates one only when empty.
    return dryRun();
  }
  const state = probeFilesystem(a.repositoryPath);
  d.log.info(
    state === "existing"
      ? `connecting the existing repository at ${a.repositoryPath}`
      : `creating a repository at ${a.repositoryPath}`,
  );
  if (state === "existing") {
    if (a.password.kind !== "existing")
      throw new UsageError(
        `a repository exists at ${a.repositoryPath}`,
        "pass --password-file with its password (never --generate-password)",
      );
    const password = readFileSync(a.passwordFile, "utf8").trim();
    if (!(await passwordOpens(d.runner, repositoryOf(a), password, kopia)))
      throw new AppError(
        "repository_auth",
        `${a.passwordFile} does not open the repository at ${a.repositoryPath}`,
      );
  }
  return dryRun();
}
