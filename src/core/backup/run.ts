import type { ResolvedPaths } from "../../config/resolve.ts";
import type { Scope } from "../../config/schema.ts";
import { createJournal } from "../containers/journal.ts";
import { recoverIfNeeded } from "../containers/recover.ts";
import { discoverUnits } from "../discovery/discover.ts";
import type { Discovery } from "../discovery/model.ts";
import { UsageError } from "../errors.ts";
import { locateSources } from "../fs-snapshot/locate.ts";
import { onlyOurActions } from "../kopia/actions.ts";
import { identity } from "../kopia/policy.ts";
import type { KopiaPolicy } from "../kopia/policy-schema.ts";
import { acquireLock } from "../lock/acquire.ts";
import { openRepository } from "../repository/open.ts";
import { syncReplicas } from "../repository/replicas.ts";
import { sampleClock } from "../restore-points/clock-evidence.ts";
import { PRIORITY } from "../safe-exit.ts";
import { noteGatePolicy, openAhead } from "./ahead.ts";
import { noteRestartFailed, restartsFailed } from "./containers.ts";
import type { BackupDeps } from "./deps.ts";
import { type EarlyReads, executeBackup } from "./execute.ts";
import { fsSnapshotPaths, withFsPlacements } from "./fs-snapshot.ts";
import { afterHealError, type Heal, healOf, NO_HEAL, withHeal, withSignalRestarts } from "./heal.ts";
import { heldContainers } from "./held.ts";
import { interruptedRunRecord, markInterrupted, noteStopping, type RunSoFar } from "./interrupted.ts";
import { maintainAfterRun, maintenanceCut } from "./maintenance.ts";
import { type BackupPlan, planBackup } from "./plan.ts";
import type { PhaseError, RunRecord, UnitResult } from "./result.ts";
import { expireAfter } from "./retention-after.ts";
import { applyRunPolicies } from "./run-policies.ts";
import { lastRunFacts, newRunId, readRunRecords, writeRunRecord } from "./run-records.ts";
import { pruneRunRecords } from "./run-records-prune.ts";
import { takeRunSequence } from "./run-sequence.ts";
import { excludedUnitReasons, unitExclusion, unknownUnitReasons } from "./unit-names.ts";

export interface BackupRequest {
  units: string[];
  scope?: Scope;
  /** Wait for the host-wide lock instead of failing with "locked". */
  wait?: boolean;
  /** Walk volumes and binds for their size (dry-run estimates). */
  sizes?: boolean;
}

export type RunDeps = Omit<BackupDeps, "journal"> & { paths: ResolvedPaths };

/**
 * Discovery, with the `--unit` names checked against it: an unknown one, or an excluded one, is a usage
 * error. Changes nothing.
 */
async function discoverNamed(d: RunDeps, req: BackupRequest): Promise<Discovery> {
  const discovery = await discoverUnits(
    { docker: d.docker, config: d.config, log: d.log },
    { sizes: req.sizes },
  );
  const unknown = req.units.filter((n) => !discovery.units.some((u) => u.name === n));
  if (unknown.length > 0) {
    const found = await d.docker.inspectContainers(unknown).catch(() => []);
    const held = heldContainers(d.paths.journalDir, (m) => d.log.warn(m));
    const why = unknownUnitReasons(unknown, discovery, found, held);
    throw new UsageError(
      `no unit named ${unknown.join(", ")} on this host${why.length ? `: ${why.join("; ")}` : ""}`,
      `units: ${discovery.units.map((u) => u.name).join(", ") || "(none)"} (see \`kopi-docka list\`)`,
    );
  }
  const excluded = excludedUnitReasons(req.units, discovery, d.config);
  if (excluded.length > 0)
    throw new UsageError(
      `not backed up: ${excluded.join("; ")}`,
      `units it backs up: ${
        discovery.units
          .filter((u) => !unitExclusion(d.config, u))
          .map((u) => u.name)
          .join(", ") || "(none)"
      }; nothing was changed`,
    );
  return discovery;
}

/** The plan for what discovery found. Changes nothing. */
async function planFor(d: RunDeps, req: BackupRequest, discovery: Discovery, runId: string) {
  const planned = planBackup(d.config, discovery, d.now?.() ?? new Date(), {
    runId,
    hostname: d.hostname,
    version: d.version,
    stagingDir: d.paths.stagingDir,
    units: req.units,
    ...(req.scope ? { scope: req.scope } : {}),
    ...lastRunFacts(readRunRecords(d.paths.runsDir, (m) => d.log.warn(m))),
    held: heldContainers(d.paths.journalDir, (m) => d.log.warn(m)),
  });
  const fsPaths = fsSnapshotPaths(planned);
  return fsPaths.length ? withFsPlacements(planned, await locateSources(d.runner, fsPaths)) : planned;
}

/** Discovery and the plan for it; unknown `--unit` names are a usage error. Changes nothing. */
export async function planFromHost(
  d: RunDeps,
  req: BackupRequest,
  runId = newRunId(d.now?.() ?? new Date()),
): Promise<{ plan: BackupPlan; discovery: Discovery }> {
  const discovery = await discoverNamed(d, req);
  return { plan: await planFor(d, req, discovery, runId), discovery };
}

/**
 * The whole `backup`: host-wide lock → the run's number (`run-sequence.ts`) → containers a dead run
 * left stopped are started (under the lock, so no other run stops anything meanwhile; what could not
 * be started makes the run `restart_failed`, `heal.ts`) → repository (created on first use) → this
 * host's policy (read-before-write) → discovery and plan → every unit → retention → replicas →
 * maintenance → run record (marked interrupted after a signal; written by a cleanup compensation when
 * the signal path gets there first). Returns the record; the caller turns its status into the exit code.
 * `namesChecked` is called once every `--unit` name is known to exist (at once when none is given):
 * the heartbeat start waits for it. `backedUp` is told the record once its status is final, before
 * the maintenance that may take hours (`maintainAfterRun`): the heartbeat's end goes out then.
 */
export async function runBackup(
  d: RunDeps,
  req: BackupRequest,
  namesChecked: () => void = () => {},
  backedUp: (record: RunRecord) => void = () => {},
): Promise<RunRecord> {
  if (req.units.length === 0) namesChecked();
  const runId = newRunId(d.now?.() ?? new Date());
  const lock = await acquireLock(d.paths.lockFile, {
    runId,
    command: "backup",
    wait: req.wait ?? false, // backup takes --wait: the "locked" hint offers it
    signal: d.lifecycle.signal,
    log: d.log,
  });
  const startedAt = d.now?.() ?? new Date();
  const clock = sampleClock();
  const sequence = takeRunSequence(d.paths, (m) => d.log.warn(m));
  const soFar: RunSoFar = {
    runId,
    version: d.version,
    hostname: d.hostname,
    scope: req.scope ?? d.config.backup.scope,
    startedAt,
    done: [],
    errors: [],
    ...(clock ? { clock } : {}),
    ...(sequence ? { sequence } : {}),
  };
  let heal: Heal = NO_HEAL;
  // The normal path's record, when it got that far after the signal (every unit's result in it).
  let cutShort: RunRecord | undefined;
  // The record whose outcome the heartbeat was told, before the maintenance at the run's end.
  let told: RunRecord | undefined;
  // Registered now, so a signal at any later moment leaves a record; dismissed once the normal path
  // has written its own.
  const interruptedRecord = d.lifecycle.register("record the interrupted run", PRIORITY.cleanup, () => {
    const signal = d.lifecycle.interruptedBy ?? "a signal";
    const record =
      cutShort ??
      (told ? maintenanceCut(told, signal) : interruptedRunRecord(soFar, signal, d.now?.() ?? new Date()));
    // Those a unit or the heal already names failed before the signal, and are told as such.
    const known = new Set([...heal.restartFailed, ...record.units.flatMap((u) => u.restartFailed)]);
    const down = restartsFailed(d.lifecycle).filter((c) => !known.has(c.name));
    writeRunRecord(d.paths.runsDir, withHeal(record, withSignalRestarts(heal, down)));
  });
  try {
    heal = healOf(await recoverIfNeeded(d, lock.tookOverFrom));
    // A signal later in the run must not turn the exit status of a container down into 143.
    for (const e of heal.errors) noteRestartFailed(d.lifecycle, e.item ?? "", e.message);
    const early: PhaseError[] = [];
    soFar.errors = early;
    // The repository side (open, this identity's policy: retention off, compression, the gate) and discovery
    // (docker only) do not depend on each other: side by side, each a few process starts. Both are
    // waited for, and a repository failure is reported first, as when they ran one after the other.
    // The repository's reads start as soon as it is known that nothing reconnects, and the first of
    // them is the proof that it opens (`openRepository`): one `policy export` (every defined policy:
    // this identity's, the sources' ignore rules). The maintenance info (owner, schedule)
    // is needed after the last unit only: it is read while the first unit's containers stop
    // (`executeBackup`), when no other kopia process wants the CPU. The first unit's gated snapshots
    // open once that read shows only kopi-docka's actions (`ahead.ts`), beside the rest of the
    // repository side and discovery, used only if the reads lead to no policy write.
    const reads: EarlyReads = { noteGate: (inPlace) => noteGatePolicy(d.paths.stateDir, d, inPlace) };
    let markCurrent: (current: boolean) => void = () => {};
    const current = new Promise<boolean>((r) => {
      markCurrent = r;
    });
    const named = discoverNamed(d, req);
    // A mistyped `--unit` must change nothing: with names to check, the repository side (it may
    // create, connect, write the policy) waits for discovery; a night without `--unit` loses no time.
    const checked = req.units.length > 0 ? named.then(() => namesChecked()) : undefined;
    const repository = (async () => {
      await checked;
      let defined: Promise<Record<string, KopiaPolicy>> | undefined;
      // Once per run: from the proof, or after a (re)connect.
      const startReads = () => {
        if (defined) return defined;
        defined = d.kopia.policyDefinedAll();
        reads.definedPolicies = defined;
        reads.identityPolicy = defined.then((all) => all[identity(d)] ?? {});
        // their failures are reported where they are used (gate, ignore rules), if they are
        for (const p of [reads.identityPolicy, defined]) p.catch(() => {});
        return defined;
      };
      await openRepository(d, "use", () => {
        const reading = startReads();
        markCurrent(true);
        return reading;
      }).finally(() => markCurrent(false));
      // After a (re)connect: only now do the reads see the configured repository.
      startReads();
      await applyRunPolicies(d, defined, reads, early);
    })();
    const planning = named.then(async (discovery) => ({
      plan: await planFor(d, req, discovery, runId),
      discovery,
    }));
    // The first unit's snapshots open once the plan is known, nothing reconnects and the policies read
    // show no kopia action but kopi-docka's: each runs every action kopia finds for its source.
    reads.ahead = Promise.all([planning, current])
      .then(async ([p, isCurrent]) => {
        const ours = isCurrent && onlyOurActions(await (reads.definedPolicies ?? {}), identity(d));
        return ours ? openAhead(d, d.paths, p.plan.units[0]) : undefined;
      })
      .catch(() => undefined);
    const [opened, planned] = await Promise.allSettled([repository, planning]);
    // No unit will take the snapshots opened ahead: they end at their closed gates, their fifos go.
    if (opened.status === "rejected" || planned.status === "rejected")
      await (await reads.ahead)?.drop("the run cannot go on");
    if (opened.status === "rejected") throw opened.reason;
    if (planned.status === "rejected") throw planned.reason;
    const { plan, discovery } = planned.value;
    soFar.plan = plan;
    if (plan.units.length === 0) d.log.warn("nothing to back up: no unit selected");
    const journal = noteStopping(
      createJournal(d.paths.journalDir, { warn: (m) => d.log.warn(m) }),
      soFar,
      d.lifecycle.signal,
    );
    const done: UnitResult[] = [];
    soFar.done = done;
    let record = await executeBackup({ ...d, journal }, plan, discovery, (u) => done.push(u), reads);
    const unitsEnded = performance.now();
    record.errors.unshift(...early);
    if (clock) record.clock = clock;
    if (sequence) record.sequence = sequence;
    const signal = d.lifecycle.interruptedBy;
    // After a signal the record is the drain's to write (`interruptedRecord`): it runs after the
    // restarts, so a container the signal path could not start again is in it; here they may not
    // have ended yet.
    if (signal) {
      cutShort = markInterrupted(record, signal);
      return withHeal(cutShort, heal);
    }
    const pointsLeft = await expireAfter(d, record, plan);
    // Outside the cold window (every container runs again); a failed copy never fails the backup.
    if (record.status === "ok" && d.config.replicas.length > 0) {
      record.replicas = await syncReplicas({ ...d, signal: d.lifecycle.signal });
      if (record.replicas.some((r) => r.status === "failed")) record.status = "partial";
    }
    // A signal during retention or the copies: an interrupted run, told as such by the signal path.
    const cut = d.lifecycle.interruptedBy;
    if (cut) {
      cutShort = markInterrupted(record, cut);
      return withHeal(cutShort, heal);
    }
    // A container the heal could not start leaves the backup and its copies as they were. Maintenance
    // changes no status: the outcome is told now, its own warnings go with the run's alert. It works
    // after the replicas' copy: they follow it at the next sync. A signal during it leaves the outcome
    // told, with the maintenance cut short as a warning (`maintenanceCut`), whichever path writes it.
    // The end of what the outcome is: every unit, retention and the copies (a replica's last copy).
    record.finishedAt = (d.now?.() ?? new Date()).toISOString();
    record.durationMs += Math.round(performance.now() - unitsEnded);
    told = record;
    backedUp(withHeal(record, heal));
    await maintainAfterRun({ ...d, journal }, record, reads.maintenanceInfo);
    const late = d.lifecycle.interruptedBy;
    if (late) {
      cutShort = maintenanceCut(record, late);
      return withHeal(cutShort, heal);
    }
    record = withHeal(record, heal);
    const written = writeRunRecord(d.paths.runsDir, record);
    interruptedRecord.dismiss();
    // Still under the lock: the runs directory stays bounded, by the points retention left
    // (`run-records-prune.ts`); when it did not judge every unit, nothing goes.
    if (pointsLeft)
      pruneRunRecords(
        d.paths.runsDir,
        { keep: written, now: d.now?.() ?? new Date(), host: d.hostname, points: pointsLeft },
        d.log,
      );
    return record;
  } catch (e) {
    throw d.lifecycle.interruptedBy ? e : afterHealError(e, heal);
  } finally {
    // Without a signal there is nothing to record as interrupted (a thrown error is reported as such).
    if (!d.lifecycle.signal.aborted) interruptedRecord.dismiss();
    lock.release();
  }
}
