import { accessSync, constants, existsSync } from "node:fs";
import { dirname } from "node:path";
import type { ResolvedPaths } from "../../config/resolve.ts";
import type { Config } from "../../config/schema.ts";
import { errorMessage } from "../caught.ts";
import type { Check } from "../doctor.ts";
import { tcpProbe } from "../tcp-probe.ts";
import { freshnessChecks } from "./doctor-freshness.ts";
import { maskUrl } from "./mask.ts";
import { processSecrets, resolvePingUrl, resolveTargets, type SecretSource } from "./resolve.ts";
import type { Target } from "./target.ts";

/** How long doctor waits for a TCP connection to a target. */
const REACH_TIMEOUT_MS = 3_000;

function hostPort(t: Target): [string, number] {
  if (t.kind === "mail") return [t.host, t.port];
  const u = new URL(t.endpoint);
  return [u.hostname, Number(u.port) || (u.protocol === "https:" ? 443 : 80)];
}

/** doctor's alert checks: target URLs (syntax, reachable), the heartbeat URL, the textfile's directory, unit ages. */
export async function alertChecks(
  config: Config,
  paths: ResolvedPaths,
  configPath: string | undefined,
  src: SecretSource = processSecrets(),
  now = new Date(),
): Promise<Check[]> {
  const checks: Check[] = [];
  let targets: Target[] = [];
  try {
    targets = resolveTargets(config.alerts, src);
  } catch (e) {
    checks.push({ id: "notify", status: "fail", detail: errorMessage(e) });
  }
  for (const t of targets) {
    const problem = await tcpProbe(...hostPort(t), REACH_TIMEOUT_MS);
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
  try {
    const ping = resolvePingUrl(config.alerts, src);
    if (ping) {
      const u = new URL(ping);
      const problem = await tcpProbe(
        u.hostname,
        Number(u.port) || (u.protocol === "https:" ? 443 : 80),
        REACH_TIMEOUT_MS,
      );
      checks.push({
        id: "ping",
        status: problem ? "warn" : "ok",
        detail: `${maskUrl(ping)}${problem ? `: not reachable (${problem})` : " reachable"}`,
      });
    }
  } catch (e) {
    checks.push({ id: "ping", status: "fail", detail: errorMessage(e) });
  }
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
