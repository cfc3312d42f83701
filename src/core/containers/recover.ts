import { errorMessage } from "../caught.ts";
import type { ContainerInspect, Docker } from "../docker/docker.ts";
import { AppError, ProcessError } from "../errors.ts";
import { removeStaleSnapshots } from "../fs-snapshot/recover.ts";
import { isProcessAlive } from "../lock/owner.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import { sweepRecordedStages } from "../process/stages.ts";
import { sweepDeadTempDirs } from "../process/temp-dirs.ts";
import { clearEntry, policyArg, policyOf, restartsByItself } from "./held-policy.ts";
import { createJournal, type Journal, type JournalEntry } from "./journal.ts";
import { type DeadRun, deadRunMarker, type OrphanProcess, runMarker, settleOrphans } from "./orphans.ts";
import { type InFlightOptions, stopDeadline, untilStopExits } from "./stop-in-flight.ts";

/**
 * Brings back containers a dead run left stopped. A journal entry is acted on only when the run that
 * wrote it is gone (pid dead, or the pid now belongs to another process). Its container is started only
 * if it still exists, is not running, has not been started by anyone since we stopped it (same
 * State.StartedAt) and stopped after our record (FinishedAt). Every other case clears the entry and says
 * why; a failed `docker start` keeps the entry so the next recovery tries again. An entry a restore
 * marked `hold` (it was replacing the container's data) is never started: it is named at every
 * recovery until someone starts or removes the container. One the restore found stopped already
 * (`alreadyStopped`) is never started at all: when its hold ends, its entry is cleared.
 */
export interface RecoverResult {
  started: string[];
  skipped: { name: string; reason: string }[];
  /** Left stopped on purpose: a restore was replacing their data when it died (`hold`); entries kept. */
  held: { name: string; reason: string }[];
  /** `docker start` failed; the entry is kept. */
  failed: { name: string; reason: string }[];
}

export interface RecoverOptions {
  docker: Docker;
  journal: Journal;
  log: Logger;
  /** Whether the run that wrote an entry still lives; default: /proc pid + start time. */
  isAlive?: (pid: number, startTime?: number | null) => boolean;
  /** Finds processes the dead runs left behind; default: /proc (see orphans.ts). */
  findOrphans?: (markers: ReadonlySet<string>) => OrphanProcess[];
  /**
   * The dead run whose stale lock was just taken over (`LockHandle.tookOverFrom`): its processes are
   * ended too, though it may have stopped nothing (a SIGKILL while its snapshots waited at their gates).
   */
  deadRun?: DeadRun;
  /**
   * For a dead run's `docker stop` that may still be under way (stop-in-flight.ts): the config's
   * `backup.stop_timeout`, and the clock (tests).
   */
  inFlight?: InFlightOptions;
}

/** What backup's record and restore's result say of a container the heal could not start. */
export const healFailure = (f: { name: string; reason: string }) =>
  `could not start ${f.name}, which a killed run had left stopped: ${f.reason}`;

/** Clock slack between our stoppedAt and the daemon's FinishedAt (same host; sub-second rounding). */
const FINISHED_SLACK_MS = 60_000;

export async function recoverContainers(options: RecoverOptions): Promise<RecoverResult> {
  const { docker, journal, log } = options;
  const isAlive = options.isAlive ?? isProcessAlive;
  const result: RecoverResult = { started: [], skipped: [], held: [], failed: [] };
  const orphaned = journal.entries().filter((e) => !isAlive(e.pid, e.pidStartTime));
  const dead = orphaned.map((e) => runMarker(e.pid, e.pidStartTime));
  const deadRun = deadRunMarker(options.deadRun, isAlive);
  if (deadRun) dead.push(deadRun);
  if (dead.length === 0) return result;
  // An in-flight `docker stop` of the dead run would undo our start: let those finish, end the rest.
  await settleOrphans(new Set(dead), { log, find: options.findOrphans });
  if (orphaned.length === 0) return result;
  const found = await inspectAll(
    docker,
    orphaned.map((e) => e.containerId),
  );
  // Newest stop first: the reverse of the order the run stopped them in.
  for (const entry of [...orphaned].reverse()) {
    const name = entry.containerName.replace(/^\//, "");
    let c = found.find((x) => x.Id.startsWith(entry.containerId) || x.Name === `/${entry.containerId}`);
    // Running still, as the incarnation the run was stopping, while its `docker stop` may still be under
    // way in the daemon (the run killed mid-stop): waited for, or it would exit after we leave it alone.
    const deadline =
      c && !entry.hold && !entry.alreadyStopped ? stopDeadline(entry, c, options.inFlight) : undefined;
    if (c && deadline !== undefined) {
      const again = async () => (await inspectAll(docker, [entry.containerId]))[0];
      c = await untilStopExits(again, entry, c, deadline, log, options.inFlight);
    }
    let skip = c ? whyNotStart(entry, c) : "removed since it was stopped";
    // Started again (by the run, killed before it paused it again, or by anyone): never stopped here.
    if (skip && entry.paused && c?.State.Running && !c.State.Paused) {
      skip = `${skip}; it was paused before run ${entry.runId} stopped it: \`docker pause ${name}\` pauses it again`;
      log.warn(`${name} ${skip}`);
    }
    if (skip) {
      // Started by someone (a person's `docker start` releases the hold): the warning must not go with
      // the entry, it is the only record that its data may be half restored.
      if (entry.hold) log.error(`${name}: ${skip}, though ${entry.hold}${c ? byItself(name, entry, c) : ""}`);
      result.skipped.push({ name, reason: skip });
      await clearEntry({ docker, journal, log }, entry);
      continue;
    }
    if (entry.hold) {
      log.error(`${name} stays stopped: ${entry.hold}`);
      result.held.push({ name, reason: entry.hold });
      continue;
    }
    // Stopped before the restore that held it: no run of ours stopped it, so none starts it.
    if (entry.alreadyStopped) {
      result.skipped.push({ name, reason: "it was stopped before the restore that held it" });
      await clearEntry({ docker, journal, log }, entry);
      continue;
    }
    try {
      await docker.start(entry.containerId);
      log.info(`recovered: started ${name} (stopped by run ${entry.runId}, which did not finish)`);
      if (entry.paused)
        log.warn(
          `${name} was paused before run ${entry.runId} stopped it and runs now: \`docker pause ${name}\` pauses it again`,
        );
      result.started.push(name);
      await clearEntry({ docker, journal, log }, entry);
    } catch (e) {
      const reason = failureText(e, "start");
      log.error(`could not start ${name}: ${reason}`);
      result.failed.push({ name, reason });
    }
  }
  for (const s of result.skipped) log.info(`recover: left ${s.name} alone: ${s.reason}`);
  return result;
}

/**
 * A held container found started while its restart policy is not `no` (setting it failed, or the
 * entry predates kopi-docka holding policies): docker may have started it itself, at its own start,
 * with nobody checking its data. The hold is released as for a person's start, but not silently.
 */
function byItself(name: string, entry: JournalEntry, c: ContainerInspect): string {
  const p = policyOf(c);
  const started = c.State.Running || c.State.StartedAt !== entry.startedAt;
  if (!restartsByItself(p) || !started) return "";
  return `. Its restart policy is ${policyArg(p)}, so docker may have started it by itself (at the daemon's start, after a reboot) rather than a person who checked its data: compare its start (docker inspect -f '{{.State.StartedAt}}' ${name}) with the daemon's, check its data, and if it may be half restored, restore its unit again before the next backup takes it`;
}

/** Undefined when the container is exactly as our stop left it; otherwise why we leave it alone. */
function whyNotStart(entry: JournalEntry, c: ContainerInspect): string | undefined {
  if (c.State.Running) return "already running";
  if (c.State.StartedAt !== entry.startedAt) return "started by someone else since it was stopped";
  // Stopped before the restore held it: of course before the record.
  if (entry.alreadyStopped) return undefined;
  const finished = Date.parse(c.State.FinishedAt ?? "");
  const stopped = Date.parse(entry.stoppedAt);
  if (!Number.isNaN(finished) && !Number.isNaN(stopped) && finished < stopped - FINISHED_SLACK_MS) {
    return "it had stopped before the run recorded it";
  }
  return undefined;
}

/** One `docker inspect` for all ids. Missing containers are absent; any other failure throws. */
async function inspectAll(docker: Docker, ids: string[]): Promise<ContainerInspect[]> {
  try {
    return await docker.inspectContainers(ids);
  } catch (e) {
    throw new AppError(
      "restart_failed",
      `cannot inspect the containers to recover: ${failureText(e, "inspect")}`,
      {
        hint: "is the docker daemon running? the journal is kept; run `kopi-docka recover` again",
        cause: e,
      },
    );
  }
}

/** What went wrong, in docker's words. */
function failureText(e: unknown, op: string): string {
  if (!(e instanceof ProcessError)) return errorMessage(e);
  if (e.timedOut) return `docker ${op} timed out`;
  return e.stderrTail.trim() || `exit ${e.exitCode}`;
}

/** What `recoverIfNeeded` needs from the command context (structural, so no import cycle). */
export interface RecoverContext {
  paths: { journalDir: string };
  docker: Docker;
  log: Logger;
  /** Given, filesystem snapshots a dead run left (`fs-snapshot` mode) are removed as well. */
  runner?: Runner;
  /** `backup.stop_timeout`: how long a dead run's stop of an entry that does not record its own may last. */
  config?: { backup: { stop_timeout: number } };
}

/**
 * The self-heal every invocation that stops containers calls first, right after taking the host-wide
 * lock (so no live run stops anything meanwhile): `runBackup` and restore do. Nothing but a directory
 * listing unless the journal holds entries or the lock was a dead run's (`deadRun`: what it left
 * running is ended). Logs what it did and never throws for a container it could not start (the entry
 * stays for later): it returns it, and `runBackup` makes the run `restart_failed` with it
 * (`backup/heal.ts`); throws only when docker cannot be asked at all.
 */
export async function recoverIfNeeded(
  ctx: RecoverContext,
  deadRun?: RecoverOptions["deadRun"],
): Promise<RecoverResult | undefined> {
  const journal = createJournal(ctx.paths.journalDir, { warn: (m) => ctx.log.warn(m) });
  let result: RecoverResult | undefined;
  if (journal.hasEntries() || deadRun) {
    result = await recoverContainers({
      docker: ctx.docker,
      journal,
      log: ctx.log,
      ...(deadRun ? { deadRun } : {}),
      ...inFlightOf(ctx),
    });
    for (const f of result.failed) {
      ctx.log.warn(`container ${f.name} is still stopped (${f.reason}); run \`kopi-docka recover\``);
    }
  }
  // After the containers: a dead run's filesystem snapshots only take space.
  if (ctx.runner)
    await removeStaleSnapshots({ runner: ctx.runner, journalDir: ctx.paths.journalDir, log: ctx.log });
  sweepTempDirs(ctx.log, ctx.paths.journalDir);
  return result;
}

/** The config's stop timeout, for a dead run's stop that may still be under way. */
export function inFlightOf(ctx: Pick<RecoverContext, "config">): Pick<RecoverOptions, "inFlight"> {
  return ctx.config ? { inFlight: { stopTimeoutSec: ctx.config.backup.stop_timeout } } : {};
}

/** The temp dirs (gate fifos, env files with container secrets) of runs that died without cleaning up. */
export function sweepTempDirs(log: Logger, journalDir?: string): void {
  const removed = sweepDeadTempDirs();
  if (removed.length > 0)
    log.info(`removed ${removed.length} temp dir(s) left by dead runs: ${removed.join(", ")}`);
  // The stages of restores killed while writing a bind's data: partial data, maybe the old data too.
  const stages = journalDir ? sweepRecordedStages(journalDir) : [];
  if (stages.length > 0)
    log.info(`removed ${stages.length} restore stage(s) left by dead runs: ${stages.join(", ")}`);
}
