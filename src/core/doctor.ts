import { accessSync, constants, existsSync } from "node:fs";
import type { ResolvedPaths } from "../config/resolve.ts";
import type { ComposeChoice, Config } from "../config/schema.ts";
import { alertChecks } from "./alerts/doctor.ts";
import { allEnded, errorMessage } from "./caught.ts";
import { containersCheck } from "./containers/doctor-check.ts";
import { composeCandidates } from "./docker/compose.ts";
import type { Docker } from "./docker/docker.ts";
import { drFreshness } from "./dr/auto.ts";
import { AppError } from "./errors.ts";
import { type KopiaChoice, MIN_KOPIA } from "./kopia/binary.ts";
import type { Kopia } from "./kopia/kopia.ts";
import { passwordFileTooOpen, readPassword } from "./kopia/password.ts";
import type { Runner } from "./process/runner.ts";
import { toolPackage } from "./repository/backend.ts";
import { filesystemRepositoryExists } from "./repository/backends/filesystem.ts";
import { backendOf } from "./repository/backends/index.ts";
import { repositoryCheck } from "./repository/doctor-check.ts";
import { replicaChecks } from "./repository/replica-doctor.ts";
import { resolveSecrets } from "./repository/secrets.ts";
import type { Lifecycle } from "./safe-exit.ts";
import { atLeast } from "./semver.ts";

/** Oldest docker engine tested; the API it speaks (1.41) has everything discovery reads. */
export const MIN_DOCKER = "20.10.0";
export { MIN_KOPIA };

export type CheckStatus = "ok" | "warn" | "fail";
export interface Check {
  id: string;
  status: CheckStatus;
  detail: string;
  hint?: string;
}

export interface DoctorInput {
  runner: Runner;
  docker: Docker;
  /** Removes what a check leaves while it runs (the repository probe's temp dir), on a signal too. */
  lifecycle: Pick<Lifecycle, "register">;
  /** Absent when the config did not load; `configProblem` says why. */
  setup?: { config: Config; configPath: string | undefined; paths: ResolvedPaths; kopia: Kopia };
  configProblem?: string;
  isRoot: boolean;
  /** Which kopia runs (`kopia.binary`, else "auto"). */
  kopiaChoice: () => Promise<KopiaChoice>;
  /** Told what a slow check is waiting for (a repository that does not answer), as it waits. */
  progress?: (line: string) => void;
  /** The `schedule` lines: what starts backups here (the systemd timer; its checks live above core). */
  schedule?: () => Promise<Check[]>;
}

/** Health checks for monitoring: a "fail" means backups cannot work; a "warn" means they may not. */
export async function runDoctor(input: DoctorInput): Promise<Check[]> {
  const checks: Check[] = [];
  const v = await input.docker.version().catch(() => undefined);
  checks.push(
    !v?.client
      ? { id: "docker", status: "fail", detail: "docker CLI not found", hint: "apt-get install docker.io" }
      : { id: "docker", status: "ok", detail: `client ${v.client}` },
  );
  if (v?.client) {
    checks.push(
      !v.server
        ? {
            id: "docker-daemon",
            status: "fail",
            detail: v.serverError ?? "no answer",
            hint: "systemctl start docker",
          }
        : atLeast(v.server, MIN_DOCKER)
          ? { id: "docker-daemon", status: "ok", detail: `engine ${v.server}, API ${v.apiVersion}` }
          : { id: "docker-daemon", status: "fail", detail: `engine ${v.server} is older than ${MIN_DOCKER}` },
    );
  }
  checks.push(await composeCheck(input.docker, input.setup?.config.docker.compose ?? "auto"));
  checks.push(await kopiaCheck(input.kopiaChoice));
  checks.push(
    input.isRoot
      ? { id: "root", status: "ok", detail: "running as root" }
      : { id: "root", status: "warn", detail: "not root", hint: "backup, restore and recover need root" },
  );
  if (!input.setup) {
    checks.push({ id: "config", status: "fail", detail: input.configProblem ?? "config did not load" });
    checks.push(...(await scheduleLines(input.schedule)));
    return checks;
  }
  const { config, configPath, paths } = input.setup;
  checks.push({ id: "config", status: "ok", detail: configPath ?? "no config file: embedded defaults" });
  const repoExists =
    config.repository.backend !== "filesystem" || filesystemRepositoryExists(config.repository.path);
  checks.push(credentialsCheck(config));
  checks.push(passwordCheck(paths.passwordFile, repoExists));
  // The primary and the replicas side by side, each within its own limit: a hung server on each
  // costs one limit, not one after another. Both only read; each probe has a kopia config of its own.
  const [repository, replicas] = await allEnded([
    repositoryCheck(input.setup.kopia, config.repository, {
      exists: repoExists,
      kopiaConfigFile: paths.kopiaConfigFile,
      stateDir: paths.stateDir,
      runner: input.runner,
      lifecycle: input.lifecycle,
      progress: input.progress,
    }),
    replicaChecks(input.setup.kopia, config, {
      stateDir: paths.stateDir,
      runsDir: paths.runsDir,
      runner: input.runner,
      lifecycle: input.lifecycle,
      progress: input.progress,
    }),
  ]);
  checks.push(repository, ...replicas);
  checks.push(await containersCheck(paths.journalDir, input.docker));
  checks.push(...(await scheduleLines(input.schedule)));
  checks.push(...(await alertChecks(config, paths, configPath)));
  const dr = drFreshness(
    config,
    { configPath, passwordFile: paths.passwordFile },
    input.setup.kopia.options.hostname,
  );
  if (dr) checks.push({ id: "dr-bundle", ...dr });
  return checks;
}

/** A schedule that cannot be read (systemctl failing) is a finding, not a reason to stop checking. */
async function scheduleLines(schedule: DoctorInput["schedule"]): Promise<Check[]> {
  if (!schedule) return [];
  try {
    return await schedule();
  } catch (e) {
    return [{ id: "schedule", status: "fail", detail: `cannot read the timer's state: ${errorMessage(e)}` }];
  }
}

async function composeCheck(docker: Docker, choice: ComposeChoice): Promise<Check> {
  const compose = await docker.composeVersion();
  if (compose)
    return { id: "compose", status: "ok", detail: `${compose.command.join(" ")} ${compose.version}` };
  const wanted = composeCandidates(choice).map((c) => `\`${c.join(" ")}\``);
  const none = wanted.length > 1 ? `neither ${wanted.join(" nor ")} found` : `${wanted[0]} not found`;
  return {
    id: "compose",
    status: "warn",
    detail: choice === "auto" ? none : `${none} (docker.compose = "${choice}")`,
    hint: "needed only to start restored compose stacks (`restore --start`)",
  };
}

async function kopiaCheck(kopiaChoice: () => Promise<KopiaChoice>): Promise<Check> {
  let choice: KopiaChoice;
  try {
    choice = await kopiaChoice();
  } catch (e) {
    return { id: "kopia", status: "fail", detail: errorMessage(e) };
  }
  const { version } = choice;
  if (!version)
    return {
      id: "kopia",
      status: "fail",
      detail: "kopia not found",
      hint: "install kopia ≥ 0.21, or the full kopi-docka build (kopia inside)",
    };
  return atLeast(version, MIN_KOPIA)
    ? {
        id: "kopia",
        status: "ok",
        detail: `kopia ${version} (${choice.source}: ${choice.path ?? choice.command})`,
      }
    : { id: "kopia", status: "fail", detail: `kopia ${version} is older than ${MIN_KOPIA}` };
}

/** The backend's secrets and tools, as a backup would need them (no network). */
function credentialsCheck(config: Config): Check {
  const repo = config.repository;
  const backend = backendOf(repo);
  try {
    resolveSecrets(repo, backend);
  } catch (e) {
    const hint = e instanceof AppError ? e.hint : undefined;
    return {
      id: "credentials",
      status: "fail",
      detail: errorMessage(e),
      ...(hint ? { hint } : {}),
    };
  }
  const missing = backend.tools(repo).filter((t) => !Bun.which(t));
  if (missing.length)
    return {
      id: "credentials",
      status: "fail",
      detail: `${missing.join(", ")} not on PATH (the ${repo.backend} backend runs it)`,
      hint: `Debian: apt install ${[...new Set(missing.map(toolPackage))].join(" ")}`,
    };
  return { id: "credentials", status: "ok", detail: `${repo.backend} at ${backend.describe(repo)}` };
}

function passwordCheck(file: string, repoExists: boolean): Check {
  if (!existsSync(file)) {
    return repoExists
      ? { id: "password", status: "fail", detail: `${file} is missing`, hint: "restore it from your copy" }
      : { id: "password", status: "warn", detail: `${file} will be generated by the first backup` };
  }
  try {
    accessSync(file, constants.R_OK);
    readPassword(file);
  } catch (e) {
    return { id: "password", status: "fail", detail: errorMessage(e) };
  }
  return passwordFileTooOpen(file)
    ? { id: "password", status: "warn", detail: `${file} is readable by others`, hint: `chmod 600 ${file}` }
    : { id: "password", status: "ok", detail: file };
}

/** What `doctor` reports: healthy when no check failed (warnings do not count). */
export interface DoctorReport {
  healthy: boolean;
  checks: Check[];
}

export function doctorReport(checks: Check[]): DoctorReport {
  return { healthy: checks.every((c) => c.status !== "fail"), checks };
}

/** The `check_failed` error naming every failed check, if any failed. */
export function doctorError(report: DoctorReport): AppError | undefined {
  const failed = report.checks.filter((c) => c.status === "fail");
  if (failed.length === 0) return undefined;
  return new AppError(
    "check_failed",
    `${failed.length} check(s) failed: ${failed.map((c) => c.id).join(", ")}`,
  );
}
