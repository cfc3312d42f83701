import type { ResolvedPaths } from "../../config/resolve.ts";
import type { Config } from "../../config/schema.ts";
import { UsageError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { maskUrl } from "./mask.ts";
import { testMessage } from "./message.ts";
import { parseTarget } from "./parse.ts";
import { pendingDir } from "./pending.ts";
import { expand, processSecrets, resolveTargets } from "./resolve.ts";
import { retryPending } from "./retry.ts";
import { type SendResult, sendAll, sendOne, sendOptions } from "./send.ts";

export interface NotifyTestDeps {
  config: Config;
  paths: ResolvedPaths;
  hostname: string;
  log: Logger;
}

/**
 * `notify test`: a test message to every configured target, or to `url` alone (`${VAR}` expanded).
 * Each configured target that got it then gets the alerts earlier runs could not deliver to it
 * (`retry.ts`): whoever just fixed a target hears of the failed night at once. A `url` target is
 * none of the configured ones, so it gets only the test. Results are the test's, one per target.
 */
export async function sendTestNotifications(d: NotifyTestDeps, url?: string): Promise<SendResult[]> {
  const src = processSecrets();
  const targets = url
    ? [parseTarget(expand(url, maskUrl(url), src), "always", d.hostname)]
    : resolveTargets(d.config.alerts, src, d.hostname);
  if (targets.length === 0)
    throw new UsageError("no notification target configured", "add [[alerts.notify]] url = … or pass --url");
  const options = sendOptions(d.config);
  // A test reaches every target (`wants`), so the results line up with `targets`.
  const results = await sendAll(targets, testMessage(d.hostname), options);
  if (!url) {
    const working = targets.filter((_, i) => results[i]?.ok);
    const queue = { dir: pendingDir(d.paths), log: d.log, now: () => new Date() };
    await retryPending(queue, working, (t, m) => sendOne(t, m, options));
  }
  return results;
}
