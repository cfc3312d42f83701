import { accessSync, constants, existsSync } from "node:fs";
import { dirname } from "node:path";
import type { ResolvedPaths } from "../../config/resolve.ts";
import type { Config } from "../../config/schema.ts";
import { errorMessage } from "../caught.ts";
import type { Check } from "../doctor.ts";
import { tcpProbe, urlEndpoint } from "../tcp-probe.ts";
import { freshnessChecks } from "./doctor-freshness.ts";
import { maskUrl } from "./mask.ts";
import { processSecrets, resolvePingUrl, resolveTargets, type SecretSource } from "./resolve.ts";
import type { Target } from "./target.ts";

/** How long doctor waits for a TCP connection to a target. */
const REACH_TIMEOUT_MS = 3_000;

/** doctor's alert checks: target URLs (syntax, reachable), the heartbeat URL, the textfile's directory, unit ages. */
export async function alertChecks(
  config: Config,
  paths: ResolvedPaths,
  configPath: string | undefined,
  src: SecretSource = processSecrets(),
  now = new Date(),
  probe = tcpProbe,
): Promise<Check[]> {
  const checks: Check[] = [];
  let targets: Target[] = [];
  try {
    targets = resolveTargets(config.alerts, src);
  } catch (e) {
    checks.push({ id: "notify", status: "fail", detail: errorMessage(e) });
  }
  let ping: string | undefined;
  let pingError: unknown;
  try {
    ping = resolvePingUrl(config.alerts, src);
  } catch (e) {
    pingError = e;
  }
  const reach = (url: string) => {
    const at = urlEndpoint(url);
    return at ? probe(at.host, at.port, REACH_TIMEOUT_MS) : Promise.resolve("not a URL");
  };
  // Side by side: several targets that do not answer cost one wait, not one each.
  const [pingProblem, ...problems] = await Promise.all([
    ping ? reach(ping) : undefined,
    ...targets.map((t) => (t.kind === "mail" ? probe(t.host, t.port, REACH_TIMEOUT_MS) : reach(t.endpoint))),
  ]);
  for (const [i, t] of targets.entries()) {
    const problem = problems[i];
    checks.push(
      problem
        ? {
            id: "notify",
            status: "warn",
            detail: `${t.label}: not reachable (${problem})`,
            hint: "kopi-docka notify test",
          }
        : { id: "notify", status: "ok", detail: `${t.label} (${t.level}) reachable` },
    );
  }
  if (pingError !== undefined) checks.push({ id: "ping", status: "fail", detail: errorMessage(pingError) });
  else if (ping)
    checks.push({
      id: "ping",
      status: pingProblem ? "warn" : "ok",
      detail: `${maskUrl(ping)}${pingProblem ? `: not reachable (${pingProblem})` : " reachable"}`,
    });
  if (config.metrics.textfile) {
    const dir = dirname(config.metrics.textfile);
    let problem: string | undefined;
    try {
      accessSync(existsSync(dir) ? dir : dirname(dir), constants.W_OK);
    } catch {
      problem = `${dir} is not writable`;
    }
    checks.push({
      id: "metrics",
      status: problem ? "warn" : "ok",
      detail: problem ?? `${config.metrics.textfile}`,
    });
  }
  checks.push(...freshnessChecks(config, paths, configPath, now));
  return checks;
}
