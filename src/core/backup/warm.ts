import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SnapshotManifest } from "../kopia/parse.ts";
import { sourceIdentity } from "../snapshot/tags.ts";
import { MAX_GATED } from "./cold-window.ts";
import type { BackupDeps } from "./deps.ts";
import type { SourcePlan } from "./plan-model.ts";

/**
 * Tags of a warm pass: no `backup_id`, so restore never groups it into a point (`restore/points.ts`
 * skips such manifests), and it is incomplete, so `snapshot list` and retention pass it over.
 */
export const WARM_TAG = "kopi_docka_warm";

/**
 * kopia reuses a file from its base snapshot when size and mtime are unchanged. A file rewritten
 * after the warm pass read it, with the same size and within the same timestamp tick, would look
 * unchanged to the cold pass. Every such file has an mtime at or after the warm pass's start minus
 * one tick; this margin is far above any tick (coarse kernel clocks, 1 s or 2 s filesystems).
 */
export const RACY_MARGIN_MS = 2_000;

/** Why a warm snapshot may not be the cold pass's base; undefined when it may. Pure. */
export function warmUnusable(m: SnapshotManifest, warmStartMs: number): string | undefined {
  if (m.incomplete !== "canceled")
    return `saved ${m.incomplete ? `incomplete (${m.incomplete})` : "complete"}`;
  const max = Date.parse(m.rootEntry?.summ?.maxTime ?? "");
  if (!Number.isFinite(max)) return "no newest mtime recorded";
  if (max >= warmStartMs - RACY_MARGIN_MS) return "files changed while it read them";
  return undefined;
}

/**
 * The warm pass of `warm-then-cold`: one `kopia snapshot create` per directory source while the
 * containers run, so the cold snapshot after the stop reads only what changed since. Each is saved
 * incomplete (never a restore point, never counted by retention) and deleted again when a file in it
 * may have changed within its read (`warmUnusable`): the cold pass then falls back to the last cold
 * snapshot. Needs the gate policy (`kopia/gate.ts`, both actions). Never throws: a failed warm pass
 * only costs the cold pass its head start.
 */
export async function warmPass(
  d: BackupDeps,
  sources: readonly SourcePlan[],
  o: { unit: string; hostname: string; signal: AbortSignal },
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "kopi-docka-warm-"));
  try {
    // The gate action reads "go" from the named path: a plain file lets a warm pass read at once.
    const go = join(dir, "go");
    writeFileSync(go, "go\n", { mode: 0o600 });
    // An unchecked one left behind would be a base of this run's snapshots: no warm pass then.
    if (!(await dropLeftovers(d, sources, o))) return;
    // Side by side, as many at once as the gated snapshots after them (each holds its repository open).
    for (let i = 0; i < sources.length && !o.signal.aborted; i += MAX_GATED)
      await Promise.all(sources.slice(i, i + MAX_GATED).map((s) => warmOne(d, s, go, o)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function warmOne(
  d: BackupDeps,
  s: SourcePlan,
  go: string,
  o: { unit: string; hostname: string; signal: AbortSignal },
): Promise<void> {
  const started = Date.now();
  let id: string | undefined;
  try {
    const r = await d.kopia.snapshotCreateResult(s.path, {
      overrideSource: sourceIdentity(d.kopia.options.username, o.hostname, s.logicalPath),
      tags: { [WARM_TAG]: "true", unit: s.tags.unit, type: s.type },
      gate: go,
      warm: true,
      signal: o.signal,
      onStderrLine: (line) => d.log.debug(`kopia (warm): ${line}`),
    });
    id = r.manifest?.id;
    if (!r.manifest) {
      d.log.warn(
        `${o.unit}: warm pass of ${s.label} saved nothing: ${r.stderrTail.trim().split("\n").at(-1)}`,
      );
      return;
    }
    const why = warmUnusable(r.manifest, started);
    if (why === undefined) {
      d.log.debug(`${o.unit}: warm pass of ${s.label}: ${Date.now() - started} ms`);
      return;
    }
    d.log.info(`${o.unit}: warm pass of ${s.label} not used as the base (${why})`);
    await d.kopia.snapshotDelete([r.manifest.id]);
  } catch (e) {
    // A warm manifest left behind that was never checked must not become a base.
    if (id) await d.kopia.snapshotDelete([id]).catch(() => {});
    d.log.warn(`${o.unit}: warm pass of ${s.label} failed: ${e instanceof Error ? e.message : e}`);
  }
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
  const paths = new Set(sources.map((s) => s.logicalPath));
  try {
    const stale = (await d.kopia.snapshotList({ signal: o.signal })).filter(
      (m) =>
        m.incomplete &&
        m.tags?.[`tag:${WARM_TAG}`] === "true" &&
        m.source.host === o.hostname &&
        m.source.userName === d.kopia.options.username &&
        paths.has(m.source.path),
    );
    await d.kopia.snapshotDelete(stale.map((m) => m.id));
    return true;
  } catch (e) {
    d.log.warn(`${o.unit}: no warm pass, earlier ones not removed: ${e instanceof Error ? e.message : e}`);
    return false;
  }
}
