import { errorMessage } from "../caught.ts";
import { pipeChecked } from "../dump/pipe.ts";
import { isDumpPreset, NON_EMPTY_DUMP_MARKS, TORN_DUMP_ENDINGS } from "../dump/presets.ts";
import { formatBytes } from "../format.ts";
import type { Logger } from "../log.ts";
import { redactText } from "../snapshot/redact.ts";
import { sourceIdentity, tagStrings } from "../snapshot/tags.ts";
import type { BackupDeps } from "./deps.ts";
import type { SourcePlan } from "./plan-model.ts";
import { lastLines, type SourceResult } from "./result.ts";

/** Below this share of the last dump's size a dump is saved, with a warning. */
export const DUMP_DROP_WARN = 0.5;

/**
 * One dump source (`mode = "dump"`): the dump command runs inside its container (`docker exec`) and
 * its stdout streams into `kopia snapshot create --stdin-file`, recorded under the dump's logical
 * source. The container is never stopped. A dump that exits non-zero, or writes nothing, fails the
 * source and leaves no snapshot behind (kopia is cancelled before the stream ends; any manifest it
 * still saved is deleted). Never throws.
 */
export async function dumpSource(
  d: Pick<BackupDeps, "docker" | "kopia">,
  s: SourcePlan,
  o: { hostname: string; timestamp: string; signal?: AbortSignal; log: Logger; unit: string },
): Promise<SourceResult> {
  const started = performance.now();
  const base = { type: s.type, label: s.label };
  const failed = (reason: string, extra: Partial<SourceResult> = {}): SourceResult => ({
    ...base,
    status: "failed",
    durationMs: Math.round(performance.now() - started),
    reason,
    ...extra,
  });
  const dump = s.dump;
  if (!dump || dump.problem) return failed(dump?.problem ?? "no dump command");
  o.log.info(`${o.unit}: dump of ${dump.container} (${dump.argv[0]}) …`);
  let stderr = "";
  const torn = isDumpPreset(s.tags.dump_preset) ? TORN_DUMP_ENDINGS[s.tags.dump_preset] : undefined;
  const mark = isDumpPreset(s.tags.dump_preset) ? NON_EMPTY_DUMP_MARKS[s.tags.dump_preset] : undefined;
  try {
    const r = await pipeChecked(
      async (give, signal) => {
        const end = torn || mark ? lastBytes(512) : undefined;
        const stdoutStream = (x: ReadableStream<Uint8Array>) => give(end ? x.pipeThrough(end.stream) : x);
        const res = await d.docker.containerExec(dump.container, dump.argv, { stdoutStream, signal });
        if (!end || res.exitCode !== 0) return res;
        // The exit comes before the stream is read to its end; a cut-short read needs no verdict.
        const cut = new Promise<void>((r) =>
          signal.aborted ? r() : signal.addEventListener("abort", () => r(), { once: true }),
        );
        await Promise.race([end.read, cut]);
        if (signal.aborted) return res;
        // A dump that says it went wrong is a failed dump, whatever its exit status.
        if (torn && end.text().trimEnd().endsWith(torn))
          return { ...res, exitCode: 1, stderr: `${res.stderr}the dump ends in "${torn}"\n` };
        if (mark && end.whole() && !mark.test(end.text()))
          return {
            ...res,
            exitCode: 1,
            stderr: `${res.stderr}the dump holds no table: does the database file exist and hold the data?\n`,
          };
        return res;
      },
      (stdin, signal) =>
        d.kopia.snapshotCreateResult(s.logicalPath, {
          stdin: { file: dump.file, stream: stdin },
          overrideSource: sourceIdentity(d.kopia.options.username, o.hostname, s.logicalPath),
          tags: { ...tagStrings(s.tags), timestamp: o.timestamp },
          signal,
          onStderrLine: (line) => o.log.debug(`kopia: ${line}`),
        }),
      o.signal,
    );
    stderr = r.producer.stderr;
    const m = r.consumer.manifest;
    const drop = async (reason: string) => {
      if (m) await d.kopia.snapshotDelete([m.id]).catch((e) => o.log.warn(`${o.unit}: ${errorMessage(e)}`));
      const tail = lastLines(redactText(stderr));
      return failed(reason, tail ? { stderrTail: tail } : {});
    };
    // The dump is blamed only when it failed on its own: one ended because kopia stopped reading
    // first (a repository error) did nothing wrong, and kopia's exit and stderr say what did.
    if (r.producer.exitCode !== 0 && !r.producerStopped) {
      const cause = lastLines(redactText(stderr))?.split("\n").at(-1) ?? "no error message";
      return await drop(
        `dump in ${dump.container} failed: \`${dump.argv[0]}\` exited ${r.producer.exitCode ?? r.producer.signal}: ${cause}`,
      );
    }
    if (!m || r.consumer.exitCode !== 0 || m.incomplete) {
      const cause = r.consumer.stderrTail.trim().split("\n").at(-1) || "no error message";
      stderr = r.consumer.stderrTail;
      return await drop(
        `kopia exited ${r.consumer.exitCode}${m?.incomplete ? ` (${m.incomplete})` : ""}: ${cause}`,
      );
    }
    if (r.producer.exitCode !== 0)
      return await drop(`kopia exited 0 before it read the whole dump of ${dump.container}: it is not kept`);
    const bytes = m.rootEntry?.summ?.size ?? r.bytes;
    if (bytes === 0)
      return await drop(`dump in ${dump.container} wrote nothing: an empty dump is never kept`);
    const last = s.lastSnapshotBytes;
    const warning =
      last !== undefined && bytes < last * DUMP_DROP_WARN
        ? `the dump of ${dump.container} is ${formatBytes(bytes)}, under half the last one (${formatBytes(last)}): is data missing?`
        : undefined;
    if (warning) o.log.warn(`${o.unit}: ${warning}`);
    o.log.info(`${o.unit}: dump of ${dump.container} done: ${formatBytes(bytes)}`);
    return {
      ...base,
      status: "ok",
      snapshotId: m.id,
      bytes,
      files: 1,
      durationMs: Math.round(performance.now() - started),
      ...(warning ? { warning } : {}),
    };
  } catch (e) {
    const tail = lastLines(redactText(stderr));
    return failed(`dump of ${dump.container}: ${errorMessage(e)}`, tail ? { stderrTail: tail } : {});
  }
}

/** A pass-through stream that keeps the last `n` bytes seen (the end of a dump, to check it). */
function lastBytes(n: number) {
  let tail = new Uint8Array(0);
  let seen = 0;
  let ended = () => {};
  const read = new Promise<void>((r) => {
    ended = r;
  });
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    flush: () => ended(),
    transform(chunk, ctrl) {
      const joined = new Uint8Array(tail.length + chunk.length);
      joined.set(tail);
      joined.set(chunk, tail.length);
      tail = joined.slice(-n);
      seen += chunk.length;
      ctrl.enqueue(chunk);
    },
  });
  /** `read` settles once the whole stream has passed; `whole`: the tail is all there was. */
  return { stream, read, text: () => new TextDecoder().decode(tail), whole: () => seen <= n };
}
