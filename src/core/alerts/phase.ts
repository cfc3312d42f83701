import { join } from "node:path";
import type { ResolvedPaths } from "../../config/resolve.ts";
import type { Config } from "../../config/schema.ts";
import type { RunRecord } from "../backup/result.ts";
import { readRunRecords } from "../backup/run-records.ts";
import { errorMessage } from "../caught.ts";
import type { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { missedEpisodes, type UnitAge, unitAges } from "./freshness.ts";
import { maskUrl, scrub } from "./mask.ts";
import { type Message, missedMessage, runMessage } from "./message.ts";
import { renderMetrics, writeTextfile } from "./metrics.ts";
import { pendingDir } from "./pending.ts";
import { pingRequest } from "./ping.ts";
import { preflightMessage } from "./preflight.ts";
import { processSecrets, resolveEachTarget, resolvePingUrl, type SecretSource } from "./resolve.ts";
import { keepUndelivered, type PendingQueue, retryPending } from "./retry.ts";
import { type SendOptions, type SendResult, sendAll, sendOne, sendOptions } from "./send.ts";

export interface AlertDeps {
  config: Config;
  paths: ResolvedPaths;
  hostname: string;
  log: Logger;
  now?: () => Date;
  secrets?: SecretSource;
}

/** How a run ended, as the alert phase sees it. */
export interface RunOutcome {
  record?: RunRecord;
  /** Thrown before a record existed (repository unreachable, wrong password, …). */
  error?: AppError;
  exitCode: number;
  /** Snapshot count for the textfile; absent when the repository could not be read. */
  countSnapshots?: () => Promise<number>;
}

export interface PhaseReport {
  sent: SendResult[];
  failed: number;
  missed: string[];
  textfile?: string;
  /** Undelivered alerts kept for the next run (`retry.ts`). */
  kept: number;
}

/** Where `missed.json` lives: which overdue units were already alerted. */
export const missedStateFile = (paths: ResolvedPaths) => join(paths.stateDir, "alerts", "missed.json");

function report(d: AlertDeps, what: string, results: readonly SendResult[]): void {
  for (const r of results) {
    if (r.ok) d.log.debug(`${what} sent to ${r.target} (${r.ms} ms)`);
    else d.log.warn(`${what} not delivered to ${r.target}: ${r.error}`);
  }
}

/**
 * Alerting around a backup: the heartbeat start, and after the run (every container already runs
 * again) the run message, a missed-backup alert, the heartbeat end and the textfile, all in parallel,
 * each bounded by `[alerts] timeout`. A warning or failure a target did not get is kept for the next
 * run (`retry.ts`). Nothing here throws or changes the run's exit code.
 */
export function createAlertPhase(d: AlertDeps) {
  const now = () => d.now?.() ?? new Date();
  const records = () => readRunRecords(d.paths.runsDir, (m) => d.log.warn(m));
  const secrets = d.secrets ?? processSecrets();
  let pingUrl: string | undefined;
  const problems: string[] = [];
  try {
    pingUrl = resolvePingUrl(d.config.alerts, secrets);
  } catch (e) {
    problems.push(errorMessage(e));
  }
  const { targets, problems: broken } = resolveEachTarget(d.config.alerts, secrets, d.hostname);
  problems.push(...broken);
  let options: SendOptions = { timeoutMs: d.config.alerts.timeout * 1000 };
  try {
    options = sendOptions(d.config);
  } catch (e) {
    problems.push(`alerts.ca_file: ${errorMessage(e)}`);
  }
  for (const p of problems) d.log.warn(p);

  const ping = async (at: Parameters<typeof pingRequest>[2]) => {
    if (!pingUrl) return;
    const r = pingRequest(pingUrl, d.config.alerts.ping_style, at);
    if (!r) return;
    try {
      const res = await fetch(r.url, {
        method: r.method,
        body: r.body,
        signal: AbortSignal.timeout(options.timeoutMs),
        ...(options.ca ? { tls: { ca: options.ca } } : {}),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (e) {
      d.log.warn(`heartbeat ${maskUrl(pingUrl)} ${at.phase}: ${scrub(errorMessage(e), [pingUrl])}`);
    }
  };

  const queue: PendingQueue = { dir: pendingDir(d.paths), log: d.log, now };
  const send = async (what: string, m: Message) => {
    const results = await sendAll(targets, m, options);
    report(d, what, results);
    return results;
  };
  let kept = 0;
  /** Keeps `m` (made by the run or check that began at `from`) for each target that did not get it. */
  const keep = (m: Message, results: SendResult[], from: string) => {
    kept += keepUndelivered(queue, targets, m, results, from);
  };

  const retry = () => retryPending(queue, targets, (t, m) => sendOne(t, m, options));

  /** Alerts overdue units once per episode; `ages` is every unit's age, read once for the caller too. */
  async function missed(): Promise<{ ages: UnitAge[]; units: string[]; results: SendResult[] }> {
    const ages = unitAges(records(), d.config, now());
    const episodes = missedEpisodes(ages, missedStateFile(d.paths), now());
    if (episodes.fresh.length === 0) {
      episodes.commit(true);
      return { ages, units: [], results: [] };
    }
    const message = missedMessage(d.hostname, episodes.fresh);
    const results = await send("missed-backup alert", message);
    // Sent once it reached someone; with no target configured at all nobody can be told. A target
    // that could not be resolved keeps the episode open, to be alerted once it is fixed. Only a
    // closed episode's alert is kept for the targets that missed it: an open one is sent afresh.
    const reached = results.some((r) => r.ok);
    episodes.commit(reached || (results.length === 0 && broken.length === 0));
    if (reached) keep(message, results, now().toISOString());
    return { ages, units: episodes.fresh.map((a) => a.unit), results };
  }

  async function textfile(o: RunOutcome): Promise<string | undefined> {
    const file = d.config.metrics.textfile;
    if (!file) return undefined;
    let snapshots: number | undefined;
    if (o.countSnapshots) {
      const bound = new Promise<undefined>((r) => setTimeout(r, options.timeoutMs).unref?.());
      snapshots = await Promise.race([o.countSnapshots().catch(() => undefined), bound]);
    }
    try {
      const text = renderMetrics({
        records: records(),
        ...(o.record ? { current: o.record } : {}),
        now: now(),
        ...(snapshots === undefined ? {} : { repositorySnapshots: snapshots }),
      });
      writeTextfile(file, text);
      return file;
    } catch (e) {
      d.log.warn(`metrics textfile ${file} not written: ${errorMessage(e)}`);
      return undefined;
    }
  }

  const messageOf = (o: RunOutcome) =>
    o.record
      ? runMessage(o.record, o.exitCode)
      : o.error
        ? preflightMessage(d.hostname, o.error, o.exitCode)
        : undefined;
  let ended = false;
  /** The heartbeat's end, once per run: a second (a signal after it) would undo what it said. */
  const end = (o: RunOutcome) => {
    if (ended) return Promise.resolve();
    ended = true;
    const message = messageOf(o);
    return ping({
      phase: "end",
      exitCode: o.exitCode,
      summary: message ? `${message.title}\n${message.body}` : "",
    });
  };

  return {
    /** Problems in the alert config (also logged); the backup runs regardless. */
    problems,
    targets,
    /** Alerts overdue units not yet alerted in their episode. */
    missed,
    /** Sends the alerts earlier runs could not deliver (`retry.ts`); never rejects. */
    retry,
    /** `check-freshness`: what earlier runs could not deliver, then the overdue units. */
    async checkFreshness() {
      await retry();
      return missed();
    },
    /** The heartbeat's start signal; never rejects. */
    start: () => ping({ phase: "start" }),
    /**
     * The heartbeat's end alone, when the run's outcome is final before its maintenance: a full one
     * may take hours, past the monitor's grace. `afterRun` then sends no second end. Never rejects.
     */
    end,
    /** Everything after the run (the heartbeat's end unless `end` sent it). Never rejects. */
    async afterRun(o: RunOutcome): Promise<PhaseReport> {
      const message = messageOf(o);
      const from = o.record?.startedAt ?? now().toISOString();
      const [sent, miss, , file] = await Promise.all([
        message
          ? send("backup report", message).then((results) => {
              keep(message, results, from);
              return results;
            })
          : Promise.resolve([]),
        missed().catch((e) => {
          d.log.warn(`missed-backup check failed: ${errorMessage(e)}`);
          const results: SendResult[] = [];
          return { units: [], results };
        }),
        end(o),
        textfile(o),
      ]);
      const all = [...sent, ...miss.results];
      return {
        sent: all,
        failed: all.filter((r) => !r.ok).length,
        missed: miss.units,
        textfile: file,
        kept,
      };
    },
  };
}
