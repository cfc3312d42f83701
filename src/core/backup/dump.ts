import { errorMessage } from "../caught.ts";
import { pipeChecked } from "../dump/pipe.ts";
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
  try {
    const r = await pipeChecked(
      (give, signal) => d.docker.containerExec(dump.container, dump.argv, { stdoutStream: give, signal }),
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
    if (r.producer.exitCode !== 0) {
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
    const bytes = m.rootEntry?.summ?.size ?? r.bytes;
    if (bytes === 0)
      return await drop(`dump in ${dump.container} wrote nothing: an empty dump is never kept`);
    const last = s.lastSnapshotBytes;
    if (last !== undefined && bytes < last * DUMP_DROP_WARN)
      o.log.warn(
        `${o.unit}: the dump of ${dump.container} is ${formatBytes(bytes)}, under half the last one (${formatBytes(last)}): is data missing?`,
      );
    o.log.info(`${o.unit}: dump of ${dump.container} done: ${formatBytes(bytes)}`);
    return {
      ...base,
      status: "ok",
      snapshotId: m.id,
      bytes,
      files: 1,
      durationMs: Math.round(performance.now() - started),
    };
  } catch (e) {
    const tail = lastLines(redactText(stderr));
    return failed(`dump of ${dump.container}: ${errorMessage(e)}`, tail ? { stderrTail: tail } : {});
  }
}
