import { errorMessage } from "../caught.ts";
import { formatBytes, formatDuration } from "../format.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { SnapshotProgress } from "../kopia/progress.ts";
import type { Logger } from "../log.ts";
import { sourceIdentity, tagStrings } from "../snapshot/tags.ts";
import type { SourcePlan } from "./plan-model.ts";
import type { SourceProgress, UnitProgress } from "./progress.ts";
import { lastLines, type SourceResult, stderrTailOf } from "./result.ts";

/**
 * One `kopia snapshot create` of a planned source under its logical source and tags. Never throws:
 * an incomplete snapshot, one with failed entries, or no manifest at all is a failed source.
 */
export async function snapshotSource(
  kopia: Kopia,
  source: SourcePlan,
  o: {
    hostname: string;
    timestamp: string;
    signal?: AbortSignal;
    log: Logger;
    unit: string;
    progress?: UnitProgress;
    /**
     * Gated (`kopia/gate.ts`): kopia starts now, reads once `released` says true, and creates
     * `readDone` once it has read the whole tree.
     */
    gate?: { path: string; released: Promise<boolean>; readDone?: string };
  },
): Promise<SourceResult> {
  let live: SourceProgress | undefined;
  let last: SnapshotProgress | undefined;
  const pending = snapshotWithKopia(kopia, source, o, {
    ...(o.gate ? { gate: o.gate.path, readDone: o.gate.readDone } : {}),
    onProgress: o.progress
      ? (p) => {
          last = p;
          live?.update(p);
        }
      : undefined,
  });
  // A gate that never opens: kopia fails without reading; the caller says why, no line is drawn. A
  // kopia that ends before its gate opens (it could not open the repository) is not waited past:
  // `gated.ts` learns it this way instead of waiting for it to park until its timeout.
  if (o.gate && (await Promise.race([o.gate.released, pending.then(() => "ended" as const)])) !== true)
    return pending;
  live = o.progress?.source(`${source.type} ${source.label}`, { expectedBytes: source.lastSnapshotBytes });
  // On a terminal the progress line says what is snapshotted, and stays to say how it went.
  const log = live?.standing ? undefined : o.log;
  log?.info(`${o.unit}: snapshot of ${source.type} ${source.label} …`);
  const r = await pending;
  live?.finish(r.status === "ok" ? "ok" : "failed");
  if (r.status === "ok") {
    const read = last
      ? `, ${formatBytes(last.hashedBytes)} read, ${formatBytes(last.cachedBytes)} unchanged`
      : "";
    log?.info(
      `${o.unit}: ${source.label} done: ${r.files ?? 0} files, ${formatBytes(r.bytes ?? 0)}${read}, ${formatDuration(r.durationMs)}`,
    );
  }
  return r;
}

async function snapshotWithKopia(
  kopia: Kopia,
  source: SourcePlan,
  o: { hostname: string; timestamp: string; signal?: AbortSignal; log: Logger },
  extra: { onProgress?: (p: SnapshotProgress) => void; gate?: string; readDone?: string },
): Promise<SourceResult> {
  const started = performance.now();
  const base = { type: source.type, label: source.label };
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const r = await kopia.snapshotCreateResult(source.path, {
      overrideSource: sourceIdentity(kopia.options.username, o.hostname, source.logicalPath),
      tags: { ...tagStrings(source.tags), timestamp: o.timestamp },
      signal: o.signal,
      onStderrLine: (line) => o.log.debug(`kopia: ${line}`),
      ...(extra.onProgress ? { onProgress: extra.onProgress } : {}),
      ...(extra.gate ? { gate: extra.gate } : {}),
      ...(extra.readDone ? { readDone: extra.readDone } : {}),
    });
    const m = r.manifest;
    const cause = lastLine(r.stderrTail);
    const tail = r.exitCode !== 0 && lastLines(r.stderrTail) ? { stderrTail: lastLines(r.stderrTail) } : {};
    if (!m)
      return {
        ...base,
        status: "failed",
        durationMs: elapsed(),
        reason: `kopia exited ${r.exitCode}: ${cause}`,
        ...tail,
      };
    const summ = m.rootEntry?.summ;
    const failed = summ?.numFailed ?? 0;
    const result = {
      ...base,
      snapshotId: m.id,
      bytes: summ?.size,
      files: summ?.files,
      durationMs: elapsed(),
    };
    if (m.incomplete) return { ...result, status: "failed", reason: `incomplete snapshot (${m.incomplete})` };
    if (r.exitCode !== 0 && failed === 0)
      return {
        ...result,
        snapshotId: undefined,
        status: "failed",
        reason: `kopia exited ${r.exitCode} after the snapshot: ${cause}`,
        ...tail,
      };
    if (failed > 0) {
      const first = summ?.errors
        ?.slice(0, 3)
        .map((e) => `${e.path}: ${e.error}`)
        .join("; ");
      return {
        ...result,
        status: "failed",
        reason: `${failed} entr${failed === 1 ? "y" : "ies"} failed: ${first}`,
      };
    }
    return { ...result, status: "ok" };
  } catch (e) {
    return { ...base, status: "failed", durationMs: elapsed(), reason: errorMessage(e), ...stderrTailOf(e) };
  }
}

/** The last meaningful stderr line (kopia puts the cause there). */
function lastLine(text: string): string {
  return (
    text
      .trim()
      .split("\n")
      .filter(Boolean)
      .at(-1)
      ?.replace(/^ERROR\s*/, "") ?? "no error message"
  );
}
