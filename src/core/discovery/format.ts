import { redactDeep } from "../snapshot/redact.ts";
import type { ContainerInfo, Discovery } from "./model.ts";

/**
 * The Discovery as `list --json` prints it: no `env`, no environment values inside `inspect`, and
 * every other secret (labels, command lines, volume options) redacted.
 */
export function discoveryForJson(d: Discovery): unknown {
  const container = ({ env: _env, ...rest }: ContainerInfo) => rest;
  const units = d.units.map((u) => ({ ...u, containers: u.containers.map(container) }));
  return redactDeep({ ...d, units }, { env: "all" });
}
