import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../caught.ts";
import { isObjectId } from "../kopia/objects.ts";
import type { SnapshotManifest } from "../kopia/parse.ts";
import { ownedTempDir } from "../process/temp-dirs.ts";
import { PRIORITY } from "../safe-exit.ts";
import { sourceIdentity } from "../snapshot/tags.ts";
import { MAX_GATED } from "./cold-window.ts";
import type { BackupDeps } from "./deps.ts";
import type { SourcePlan } from "./plan-model.ts";
import { clearWarmPending, isWarmPending, markWarmPending } from "./warm-pending.ts";
import { findRacyFiles, kopiaTimeMs } from "./warm-racy.ts";

/**
 * Tags of a warm pass: no `backup_id`, so neither restore (`restore/points.ts`) nor `[retention]`
 * (`restore-points/`) ever takes it for a point, and every run can find and delete it.
 */
export const WARM_TAG = "kopi_docka_warm";

/**
 * kopia reuses a file from its base snapshot when size and mtime are unchanged. A file rewritten
 * after the warm pass read it, with the same size and within the same timestamp tick, would look
 * unchanged to the cold pass. Every such file has an mtime at or after the warm pass's start minus
 * one tick; this margin is far above any tick (coarse kernel clocks, 1 s or 2 s filesystems). Such
 * files are removed from the warm snapshot before the cold pass takes it as its base (`warm-racy.ts`).
 */
export const RACY_MARGIN_MS = 2_000;

/** Why a warm snapshot can be no base at all; undefined when it can, once its racy files are out. Pure. */
export function warmUnusable(m: SnapshotManifest): string | undefined {
  if (m.incomplete) return `saved incomplete (${m.incomplete})`;
  if (!isObjectId(m.rootEntry?.obj ?? "")) return "no root directory recorded";
  if (kopiaTimeMs(m.rootEntry?.summ?.maxTime ?? "") === undefined) return "no newest mtime recorded";
  return undefined;
}

/**
 * Why the warm snapshots of a source found after `snapshot fix` (`after`) are not `before` with
 * `removed` entries taken out; undefined when exactly that one is there. Pure.
 */
export function fixUnusable(before: SnapshotManifest, after: readonly SnapshotManifest[], removed: number) {
  const [m, ...more] = after;
  if (!m || more.length > 0) return `${after.length} warm snapshots after removing the changed files`;
  if (m.id === before.id) return "kopia did not replace it";
  // An incomplete one would not be the one base (kopia also takes the last complete one), an
  // untagged one would escape dropLeftovers.
  if (m.incomplete) return "saved incomplete by the removal";
  if (JSON.stringify(m.tags ?? {}) !== JSON.stringify(before.tags ?? {})) return "its tags changed";
  const entries = (x: SnapshotManifest) =>
    (x.rootEntry?.summ?.files ?? 0) + (x.rootEntry?.summ?.symlinks ?? 0);
  if (entries(m) > entries(before) - removed) return "the changed files are still in it";
  return undefined;
}

/**
 * The warm pass of `warm-then-cold`: one `kopia snapshot create` per directory source while the
 * containers run, so the cold snapshot after the stop reads only what changed since. Each is saved
 * complete, so it is the cold pass's one base (kopia takes the newest complete snapshot and the
 * incomplete ones after it); it is no point (`WARM_TAG`), and only made while kopia's own retention
 * keeps everything (the caller checks), so it takes no slot. Then the files that may have changed
 * within its read are removed from it (`warm-racy.ts`): the cold pass reads exactly those again.
 * When that cannot be done safely the warm snapshot is deleted and the cold pass falls back to the
 * last cold snapshot. Needs the gate policy (`kopia/gate.ts`). Never throws: a
 * failed warm pass only costs the cold pass its head start. Returns the labels of sources whose
 * unchecked warm snapshot could not be deleted (the cold pass would take it as its base), and the ids
 * of the checked ones, which `dropWarmBases` deletes once the cold snapshots are saved.
 */
export async function warmPass(
  d: BackupDeps,
  sources: readonly SourcePlan[],
  o: {
    unit: string;
    hostname: string;
    signal: AbortSignal;
    /**
     * Every data source of the unit (default `sources`): a killed run's leftovers go for all of
     * them, also those this run makes no warm pass of, before the unit's mark can be cleared.
     */
    every?: readonly SourcePlan[];
  },
): Promise<{ unchecked: string[]; bases: string[] }> {
  // Removed by a compensation too: a signal during the warm pass takes it along.
  const { dir, remove } = ownedTempDir(d.lifecycle, "warm");
  const left: string[] = [];
  const bases: string[] = [];
  try {
    // The gate action reads "go" from the named path: a plain file lets a warm pass read at once.
    const go = join(dir, "go");
    writeFileSync(go, "go\n", { mode: 0o600 });
    // An unchecked one left behind would be a base of this run's snapshots: no warm pass then, and
    // the caller learns which sources still have one.
    const every = o.every ?? sources;
    if (!(await dropLeftovers(d, every, o))) return { unchecked: every.map((s) => s.label), bases };
    try {
      markWarmPending(d.journal.dir, o.unit);
    } catch (e) {
      d.log.warn(`${o.unit}: no warm pass: ${errorMessage(e)}`);
      return { unchecked: [], bases };
    }
    // Side by side, as many at once as the gated snapshots after them (each holds its repository open).
    for (let i = 0; i < sources.length && !o.signal.aborted; i += MAX_GATED)
      for (const ok of await Promise.all(sources.slice(i, i + MAX_GATED).map((s) => warmOne(d, s, go, o))))
        if (!ok.removed) left.push(ok.label);
        else if (ok.base) bases.push(ok.base);
    // Checked warm snapshots stay until the cold pass is saved: the pending mark goes with them.
    if (left.length === 0 && bases.length === 0) forgetPending(d, o.unit);
  } finally {
    await remove();
  }
  return { unchecked: left, bases };
}

/**
 * Deletes the checked warm snapshots once the cold snapshots that took them as bases are saved: never
 * a restore point, they would otherwise stay (kopia's retention keeps every complete snapshot). When
 * that fails, or an unchecked one of this run is left, the unit stays marked (`warm-pending.ts`): its
 * next run deletes them first, in any mode.
 */
export async function dropWarmBases(
  d: BackupDeps,
  warm: { bases: readonly string[]; unchecked: readonly string[] },
  unit: string,
): Promise<void> {
  if (warm.bases.length === 0) return;
  try {
    await d.kopia.snapshotDelete(warm.bases);
    // An unchecked one this run could not delete is still there: the mark stays for the next run.
    if (warm.unchecked.length === 0) forgetPending(d, unit);
  } catch (e) {
    d.log.warn(`${unit}: warm passes not deleted (the next run deletes them): ${errorMessage(e)}`);
  }
}

async function warmOne(
  d: BackupDeps,
  s: SourcePlan,
  go: string,
  o: { unit: string; hostname: string; signal: AbortSignal },
): Promise<{ label: string; removed: boolean; base?: string }> {
  const started = Date.now();
  // Until it is checked, a warm snapshot must not outlive this run: the next snapshot of its source
  // would take it as a base. On a signal the compensation removes it (and a replacement `snapshot fix`
  // may have saved under an ID not yet known), once kopia has exited; SIGKILL leaves it to the next
  // run's `dropLeftovers`.
  const drop = d.lifecycle.register(`remove the unchecked warm pass of ${s.label}`, PRIORITY.dataSafety, () =>
    dropWarm(d, [s], o.hostname),
  );
  try {
    const r = await d.kopia.snapshotCreateResult(s.path, {
      overrideSource: sourceIdentity(d.kopia.options.username, o.hostname, s.logicalPath),
      tags: { [WARM_TAG]: "true", unit: s.tags.unit, type: s.type },
      gate: go,
      signal: o.signal,
      onStderrLine: (line) => d.log.debug(`kopia (warm): ${line}`),
    });
    if (!r.manifest) {
      d.log.warn(
        `${o.unit}: warm pass of ${s.label} saved nothing: ${r.stderrTail.trim().split("\n").at(-1)}`,
      );
      await drop.run();
      return { label: s.label, removed: true };
    }
    const unusable = warmUnusable(r.manifest);
    const checked = unusable
      ? { why: unusable }
      : await removeRacy(d, s, r.manifest, started - RACY_MARGIN_MS, o);
    const why = checked.why;
    if (why === undefined) {
      drop.dismiss();
      d.log.debug(`${o.unit}: warm pass of ${s.label}: ${Date.now() - started} ms`);
      return { label: s.label, removed: true, base: checked.id };
    }
    d.log.info(`${o.unit}: warm pass of ${s.label} not used as the base (${why})`);
    await drop.run();
    return { label: s.label, removed: true };
  } catch (e) {
    d.log.warn(`${o.unit}: warm pass of ${s.label} failed: ${errorMessage(e)}`);
    const removed = await drop.run().then(
      () => true,
      () => false,
    );
    if (!removed) d.log.error(`${o.unit}: an unchecked warm pass of ${s.label} could not be deleted`);
    return { label: s.label, removed };
  }
}

/**
 * Removes from warm snapshot `m` the files that may have changed while it read them (mtime at or after
 * `threshold`), and checks kopia's replacement. Returns the id of the base (`m`'s or its replacement's),
 * or why it cannot be the base; throws when kopia fails.
 */
async function removeRacy(
  d: BackupDeps,
  s: SourcePlan,
  m: SnapshotManifest,
  threshold: number,
  o: { unit: string; hostname: string; signal: AbortSignal },
): Promise<{ id?: string; why?: string }> {
  // Nothing in the tree is that new: nothing changed while it was read.
  if ((kopiaTimeMs(m.rootEntry?.summ?.maxTime ?? "") ?? threshold) < threshold) return { id: m.id };
  const scan = await findRacyFiles(d.kopia, m.rootEntry?.obj ?? "", threshold, {
    signal: o.signal,
    // Names are untrusted: escaped, and only in the debug log.
    onSuspect: (p) =>
      d.log.debug(`${o.unit}: warm pass of ${s.label}: changed while read: ${JSON.stringify(p)}`),
  });
  if (!scan.ok) return { why: scan.reason };
  if (scan.objectIds.length === 0) return { id: m.id }; // only directories changed: never taken from a base
  await d.kopia.snapshotFixRemoveFiles(m.id, scan.objectIds, {
    signal: o.signal,
    onStderrLine: (line) => d.log.debug(`kopia (fix): ${JSON.stringify(line)}`),
  });
  // kopia keeps the start time in the replacement; a cold snapshot of the source never has it.
  const same = (await d.kopia.snapshotList({ signal: o.signal })).filter(
    (x) => ours(d, [s], o.hostname)(x) && x.startTime === m.startTime,
  );
  // A warm pass longer than kopia's checkpoint interval (45 min) also saved checkpoints: untagged,
  // incomplete, the same start time, and still holding the files just removed. The cold pass would
  // take them as bases too.
  const checkpoints = same.filter(isCheckpoint);
  await d.kopia.snapshotDelete(
    checkpoints.map((x) => x.id),
    { signal: o.signal },
  );
  const after = same.filter((x) => !isCheckpoint(x));
  const why = fixUnusable(m, after, scan.files);
  if (why) {
    // Tagged or not, complete or not: what kopia saved in its place goes too.
    await d.kopia.snapshotDelete(after.map((x) => x.id));
    return { why };
  }
  d.log.info(
    `${o.unit}: warm pass of ${s.label}: ${scan.files} files changed while it read them; the cold pass re-reads them`,
  );
  return { id: after[0]?.id };
}

/**
 * A warm snapshot saved by a run that died before checking it (SIGKILL, power loss) was never tested
 * for racy mtimes, yet the next snapshot of its source would take it as a base: the warm passes of
 * earlier runs go before this run's. kopia deletes them itself once a complete snapshot follows.
 */
async function dropLeftovers(
  d: BackupDeps,
  sources: readonly SourcePlan[],
  o: { unit: string; hostname: string; signal: AbortSignal },
): Promise<boolean> {
  try {
    await dropWarm(d, sources, o.hostname, o.signal);
    return true;
  } catch (e) {
    d.log.warn(`${o.unit}: no warm pass, earlier ones not removed: ${errorMessage(e)}`);
    return false;
  }
}

/**
 * For a unit in any mode but `warm-then-cold`: the warm snapshots a killed run may have left of its
 * sources (`warm-pending.ts`) are deleted before any snapshot of them starts. False when there may be
 * some and they could not be deleted: the caller must not snapshot these sources.
 */
export async function dropPendingWarm(
  d: BackupDeps,
  sources: readonly SourcePlan[],
  o: { unit: string; hostname: string; signal: AbortSignal },
): Promise<boolean> {
  if (!isWarmPending(d.journal.dir, o.unit)) return true;
  if (!(await dropLeftovers(d, sources, o))) return false;
  d.log.info(`${o.unit}: warm passes an interrupted run left unchecked were deleted`);
  forgetPending(d, o.unit);
  return true;
}

function forgetPending(d: BackupDeps, unit: string): void {
  try {
    clearWarmPending(d.journal.dir, unit);
  } catch (e) {
    // The next run of another mode lists the unit's snapshots once more: nothing worse.
    d.log.warn(`${unit}: ${errorMessage(e)}`);
  }
}

/** Deletes every warm snapshot of these sources under our identity. */
async function dropWarm(
  d: BackupDeps,
  sources: readonly SourcePlan[],
  hostname: string,
  signal?: AbortSignal,
): Promise<void> {
  const stale = await warmOf(d, sources, hostname, signal);
  await d.kopia.snapshotDelete(stale.map((m) => m.id));
}

/** kopia's own checkpoint of a long snapshot: no tags (the CLI sets none), never a restore point. */
const isCheckpoint = (m: SnapshotManifest) => m.incomplete === "checkpoint" && !m.tags?.[`tag:${WARM_TAG}`];

/**
 * The warm snapshots of these sources under our identity (tagged; complete ones too: never a point),
 * and kopia's checkpoints of them, which a killed warm pass may have left unchecked (a killed cold
 * pass's go too: they only speed up the next snapshot).
 */
async function warmOf(
  d: BackupDeps,
  sources: readonly SourcePlan[],
  hostname: string,
  signal?: AbortSignal,
): Promise<SnapshotManifest[]> {
  const mine = ours(d, sources, hostname);
  return (await d.kopia.snapshotList({ signal })).filter(
    (m) => mine(m) && (m.tags?.[`tag:${WARM_TAG}`] === "true" || isCheckpoint(m)),
  );
}

/** Is a manifest one of these sources under our identity? */
function ours(d: BackupDeps, sources: readonly SourcePlan[], hostname: string) {
  const paths = new Set(sources.map((s) => s.logicalPath));
  return (m: SnapshotManifest) =>
    m.source.host === hostname && m.source.userName === d.kopia.options.username && paths.has(m.source.path);
}
