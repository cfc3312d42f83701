import { dumpSource } from "../backup/dump.ts";
import type { Docker } from "../docker/docker.ts";
import { pipeChecked } from "../dump/pipe.ts";
import { RESTORE_GUARDS, type RestoreGuard } from "../dump/presets.ts";
import { AppError } from "../errors.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { Logger } from "../log.ts";
import { redactText } from "../snapshot/redact.ts";
import { type UndoRun, undoPointTags, undoSourcePath } from "../snapshot/tags.ts";
import { type DumpStep, dumpTarget, type FeedCommand, feedCommand } from "./dumps.ts";
import { PROJECT_LABEL, SERVICE_LABEL } from "./names.ts";

/**
 * A restore's database dumps, executed: the undo dump of each running database before anything
 * changes, then each dump fed back once its database takes connections. Planned by `dumps.ts`.
 */
/**
 * The database as it is now, dumped into an undo point (`phase:pre-restore`, recorded beside the
 * unit's backups, never counted in their retention) before it is overwritten. Throws when the dump
 * fails: the restore then stops before the database is changed.
 */
export async function takeUndoDump(
  c: { docker: Docker; kopia: Kopia; log: Logger; hostname: string; version: string; signal?: AbortSignal },
  unit: string,
  step: DumpStep,
  run: UndoRun,
): Promise<void> {
  if (!step.undo) return;
  const { timestamp } = run;
  const tags = undoPointTags(
    { ...run, unit, version: c.version },
    {
      type: "dump",
      dump_container: step.container,
      dump_file: step.undo.file,
      ...(step.undo.preset ? { dump_preset: step.undo.preset } : {}),
    },
  );
  const source = {
    type: "dump" as const,
    label: step.container,
    path: "",
    logicalPath: undoSourcePath(tags),
    tags,
    excludePatterns: [],
    reason: "undo point before a restore",
    dump: { container: step.container, argv: step.undo.dump, file: step.undo.file },
  };
  const r = await dumpSource(c, source, {
    hostname: c.hostname,
    timestamp,
    signal: c.signal,
    log: c.log,
    unit,
  });
  if (r.status !== "ok")
    throw new AppError("restore_failed", `the undo dump of ${step.container} failed: ${r.reason}`, {
      hint: "nothing was overwritten",
    });
  c.log.info(`undo point for the database in ${step.container}: snapshot ${r.snapshotId}`);
}

/**
 * Feeds one dump into its running container; returns that container's name. Throws an `AppError`
 * naming what failed.
 */
export async function restoreDump(
  d: { docker: Docker; kopia: Kopia; log: Logger; sleep?: (ms: number) => Promise<void> },
  planned: DumpStep,
  signal?: AbortSignal,
  /** How long a database may take to accept connections (`backup.start_timeout`). */
  readySec = 60,
  /** Run once the database takes connections, just before the feed replaces its data. */
  beforeFeed?: (step: DumpStep) => Promise<void>,
): Promise<string> {
  const step = { ...planned, container: await untilReady(d, planned, signal, readySec) };
  await beforeFeed?.(step);
  const guard = step.preset ? RESTORE_GUARDS[step.preset] : undefined;
  const { argv: restore, env, prelude } = await chooseFeedCommand(d, step, guard, signal);
  d.log.info(`feeding the dump of ${step.from} into ${step.container} (${restore[0]})`);
  const errors = guard?.errors;
  const failed: string[] = [];
  const r = await pipeChecked(
    (give, s) => d.kopia.showStream(step.object, { stdoutStream: give, signal: s }),
    (stdin, s) =>
      d.docker.containerExec(step.container, restore, {
        stdin: around(stdin, prelude, step.end),
        signal: s,
        ...(env ? { env } : {}),
        ...(errors
          ? {
              onStderrLine: (line: string) => {
                const message = errors.line.exec(line)?.[1];
                if (message !== undefined && !errors.benign.some((b) => b.test(message)))
                  failed.push(message);
              },
            }
          : {}),
      }),
    signal,
  );
  const hint = errors?.remedies.find((r) => failed.some((m) => r.when.test(m)))?.hint;
  const ran = `\`${restore[0]}\` in ${step.container}`;
  // kopia is blamed only when it failed on its own: one ended because the restore command stopped
  // reading first (MariaDB's client at its first failed statement, psql at a failed \connect) read
  // nothing wrong, and the command's own exit and stderr say what did go wrong.
  if (r.producer.exitCode !== 0 && !r.producerStopped)
    throw new AppError(
      "restore_failed",
      `reading the dump ${step.snapshotId} failed (kopia exited ${r.producer.exitCode ?? r.producer.signal}): ${tail(r.producer.stderr)}`,
    );
  if (r.consumer.exitCode !== 0)
    throw new AppError(
      "restore_failed",
      `${ran} exited ${r.consumer.exitCode ?? r.consumer.signal}${r.producerStopped ? ` before it read the whole dump of ${step.from}` : ""}: ${exitCause(failed, r.consumer.stderr)}`,
      hint ? { hint } : {},
    );
  if (r.producer.exitCode !== 0)
    throw new AppError(
      "restore_failed",
      `${ran} exited 0 before it read the whole dump of ${step.from}: the database is not as it was at the backup (${tail(r.consumer.stderr)})`,
    );
  if (failed.length > 0)
    throw new AppError(
      "restore_failed",
      `${ran} ran the dump of ${step.from} to its end, but ${failed.length} statement(s) failed: the database is not as it was at the backup (${failed
        .slice(0, 3)
        .map((m) => tail(m))
        .join("; ")}${failed.length > 3 ? "; …" : ""})`,
      { hint: hint ?? "fix the cause, then restore again" },
    );
  return step.container;
}

/**
 * The command the dump is fed through (`feedCommand`, which the plan shows too). A preset whose usual
 * database is missing (`RestoreGuard.missingDatabase`) connects to another and makes it first; asked
 * right before the feed.
 */
async function chooseFeedCommand(
  d: { docker: Docker; log: Logger },
  step: DumpStep,
  guard: RestoreGuard | undefined,
  signal: AbortSignal | undefined,
): Promise<FeedCommand> {
  const missing = guard?.missingDatabase;
  if (!missing) return feedCommand(step);
  const r = await d.docker.containerExec(step.container, missing.probe, signal ? { signal } : {});
  // A probe that fails or says anything else cannot tell: the usual command's failure, if any, says why.
  if (r.exitCode !== 0 || r.stdout.trim() !== "0") return feedCommand(step);
  d.log.warn(
    `the database ${missing.name} is missing in ${step.container}: it is made first, the dump re-creates it`,
  );
  return feedCommand(step, true);
}

/** The running container a dump goes into, once its readiness probe passes; an `AppError` if none. */
export async function untilReady(
  d: { docker: Docker; log: Logger; sleep?: (ms: number) => Promise<void> },
  planned: DumpStep,
  signal: AbortSignal | undefined,
  readySec: number,
): Promise<string> {
  const step = { ...planned, container: await runningTarget(d.docker, planned) };
  if (step.ready) await waitReady(d, step, signal, readySec);
  return step.container;
}

/**
 * `stream` with `before` ahead of it and `after` behind it: what the restore command reads first and
 * last, in the same session. `after` follows only a stream that ended cleanly (an error passes on).
 */
function around(
  stream: ReadableStream<Uint8Array>,
  before: string | undefined,
  after: string | undefined,
): ReadableStream<Uint8Array> {
  if (before === undefined && after === undefined) return stream;
  const reader = stream.getReader();
  let first = before !== undefined;
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      if (first) {
        first = false;
        ctrl.enqueue(new TextEncoder().encode(before));
        return;
      }
      const { done, value } = await reader.read();
      if (!done) return ctrl.enqueue(value);
      if (after !== undefined) ctrl.enqueue(new TextEncoder().encode(after));
      ctrl.close();
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * The running container the dump goes into: the planned one, or for a compose copy the one container
 * of its service under the copy's project, looked up now (compose created it after the plan was made).
 */
async function runningTarget(docker: Docker, step: DumpStep): Promise<string> {
  if (!step.service) {
    if (await docker.isRunning(step.container)) return step.container;
    throw new AppError(
      "restore_failed",
      `container ${step.container} is not running: the dump cannot be fed back`,
    );
  }
  const running = (
    await docker.containersLabelled({
      [PROJECT_LABEL]: step.service.project,
      [SERVICE_LABEL]: step.service.name,
    })
  ).filter((c) => c.running);
  const [only] = running;
  if (only && running.length === 1) return only.name;
  throw new AppError(
    "restore_failed",
    running.length
      ? `${running.length} containers of ${dumpTarget(step)} run (${running.map((c) => c.name).join(", ")}): the dump cannot be fed back into one of them`
      : `no container of ${dumpTarget(step)} is running: the dump cannot be fed back`,
  );
}

const tail = (s: string) =>
  redactText(s).trim().split("\n").filter(Boolean).slice(-3).join(" / ") || "no error message";

/**
 * Why a restore command exited non-zero: the failed statements its guard read (their last three) and
 * its last line (psql's failed `\connect`), else the end of its stderr.
 */
function exitCause(failed: readonly string[], stderr: string): string {
  if (failed.length === 0) return tail(stderr);
  const last = redactText(stderr).trim().split("\n").filter(Boolean).at(-1);
  return [...new Set([...failed.slice(-3), ...(last ? [last] : [])].map(tail))].join("; ");
}

/** Polls the readiness probe until it exits 0; a database that never gets ready is an error. */
async function waitReady(
  d: { docker: Docker; log: Logger; sleep?: (ms: number) => Promise<void> },
  step: DumpStep,
  signal: AbortSignal | undefined,
  readySec: number,
): Promise<void> {
  const probe = step.ready ?? [];
  const until = performance.now() + readySec * 1000;
  for (;;) {
    const r = await d.docker.containerExec(step.container, probe, signal ? { signal } : {});
    if (r.exitCode === 0) return;
    if (signal?.aborted || performance.now() > until)
      throw new AppError(
        "restore_failed",
        `the database in ${step.container} did not get ready within ${readySec} s (\`${probe.join(" ")}\` exited ${r.exitCode}): ${tail(r.stderr)}`,
      );
    await (d.sleep ?? Bun.sleep)(500);
  }
}
