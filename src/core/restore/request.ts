import { resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { isOneOf, oneOf } from "../guards.ts";
import { nameProblem } from "../names-rules.ts";
import { cleanPathProblem } from "../safe-paths.ts";
import type { RestorePoint, RestorePoints } from "./points.ts";
import type { RestoreRequest } from "./types.ts";

/** The flag twin of the wizard. Every wizard answer has a flag here. */
export interface RestoreFlags {
  unit?: string;
  run?: string;
  latest?: boolean;
  volume?: string[];
  only?: string;
  fromHost?: string;
  as?: string;
  targetDir?: string;
  start?: boolean;
  recreateNetworks?: boolean;
  replaceFiles?: boolean;
  envFile?: string;
  /** Host-internal bind targets confirmed exactly (`--allow-path`, repeatable). */
  allowPath?: string[];
  yes?: boolean;
}

/** citty's parsed restore args, as the command declares them. */
export interface RestoreArgs {
  unit?: string;
  run?: string;
  latest?: boolean;
  only?: string;
  "from-host"?: string;
  as?: string;
  "target-dir"?: string;
  start?: boolean;
  "recreate-networks"?: boolean;
  "replace-files"?: boolean;
  "env-file"?: string;
  yes?: boolean;
}

/**
 * The flags of one invocation; `volume`: every `--volume` value, `allowPath`: every `--allow-path`
 * value (both flags may be repeated).
 */
export function restoreFlags(
  a: RestoreArgs,
  volume: readonly string[],
  allowPath: readonly string[] = [],
): RestoreFlags {
  const set = <K extends keyof RestoreFlags>(k: K, v: RestoreFlags[K] | undefined) =>
    v === undefined || v === "" ? {} : { [k]: v };
  return {
    ...set("unit", a.unit),
    ...set("run", a.run),
    ...set("latest", a.latest),
    ...(volume.length ? { volume: [...volume] } : {}),
    ...(allowPath.length ? { allowPath: [...allowPath] } : {}),
    ...set("only", a.only),
    ...set("fromHost", a["from-host"]),
    ...set("as", a.as),
    ...set("targetDir", a["target-dir"]),
    ...set("start", a.start),
    ...set("recreateNetworks", a["recreate-networks"]),
    ...set("replaceFiles", a["replace-files"]),
    ...set("envFile", a["env-file"]),
    ...set("yes", a.yes),
  };
}

/** Flags that pick the restore point completely: nothing is left for a wizard to ask. */
export function flagsComplete(f: RestoreFlags): boolean {
  return Boolean(f.unit && (f.run || f.latest));
}

const ONLY = ["volumes", "binds", "recipe"] as const;

/** Points of one unit on one host, backups first then undo points, each newest first. */
export function pointsFor(points: RestorePoints, host: string, unit: string): RestorePoint[] {
  return [...points.points, ...points.undoPoints].filter((p) => p.host === host && p.unit === unit);
}

/**
 * Builds a request from flags alone, or throws a UsageError naming exactly the flags that are
 * missing. `--run` accepts a backup id, a run id or `<unit>@<backup_id>`.
 */
export function requestFromFlags(f: RestoreFlags, points: RestorePoints, thisHost: string): RestoreRequest {
  const unit = f.unit;
  const missing = [...(unit ? [] : ["--unit"]), ...(f.run || f.latest ? [] : ["--run or --latest"])];
  if (missing.length || !unit) {
    throw new UsageError(
      `restore needs ${missing.join(" and ")} without a terminal`,
      "see `kopi-docka snapshots`",
    );
  }
  if (f.run && f.latest) throw new UsageError("--run and --latest exclude each other");
  const host = f.fromHost ?? thisHost;
  const badName = nameProblem("unit", unit);
  if (badName) throw new UsageError(`--unit: ${badName}`, "see `kopi-docka snapshots`");
  const candidates = pointsFor(points, host, unit);
  if (candidates.length === 0) {
    const hosts = [...new Set(points.points.filter((p) => p.unit === unit).map((p) => p.host))];
    throw new UsageError(
      `no restore point of unit ${unit} from host ${host}`,
      hosts.length ? `it has points from --from-host ${hosts.join(", ")}` : "see `kopi-docka snapshots`",
    );
  }
  const point = findPoint(candidates, f, unit);
  return { host, unit, point: point.key, ...requestOptions(f) };
}

/** The point `--latest` or `--run` names among one unit's candidates; a UsageError when none. */
export function findPoint(candidates: readonly RestorePoint[], f: RestoreFlags, unit: string): RestorePoint {
  const run = f.run;
  const point = f.latest
    ? candidates.find((p) => !p.phase && p.complete)
    : run === undefined
      ? undefined
      : candidates.find((p) => [p.key, p.backupId, p.runId].includes(run));
  if (!point && f.latest) {
    // Only incomplete points: say what the newest one lacks, and how to restore what it does have.
    const newest = candidates.find((p) => !p.phase);
    throw new UsageError(
      `unit ${unit} has no complete restore point` +
        (newest ? `; the newest, ${newest.key}, is incomplete: ${newest.problems.join("; ")}` : ""),
      newest
        ? `restore what it has with \`--run ${newest.key}\`, or see \`kopi-docka snapshots --unit ${unit}\``
        : `see \`kopi-docka snapshots --unit ${unit}\``,
    );
  }
  if (!point) {
    throw new UsageError(
      `no restore point ${f.run} for unit ${unit}`,
      `see \`kopi-docka snapshots --unit ${unit}\``,
    );
  }
  return point;
}

/** Everything in a request but host, unit and point, from the flags (validated). */
export function requestOptions(f: RestoreFlags): Omit<RestoreRequest, "host" | "unit" | "point"> {
  if (f.only && !isOneOf(ONLY, f.only)) throw new UsageError(`--only must be one of ${ONLY.join(", ")}`);
  const badPath = f.allowPath?.map((p) => cleanPathProblem(p)).find(Boolean);
  if (badPath) throw new UsageError(`--allow-path ${badPath}`, "give the exact absolute path the plan names");
  if (f.as && !/^[a-z0-9][a-z0-9_-]*$/.test(f.as))
    throw new UsageError(`--as ${f.as}: a compose project name is lower-case letters, digits, - and _`);
  const volumes = f.volume?.flatMap((v) => v.split(",").map((x) => x.trim()));
  if (volumes?.some((v) => v === ""))
    throw new UsageError(
      "--volume has an empty name",
      "name each volume: --volume a,b or --volume a --volume b",
    );
  const what = volumes?.length ? "volumes" : (oneOf(ONLY, f.only) ?? "all");
  return {
    what,
    ...(volumes?.length ? { volumes } : {}),
    ...(f.as ? { as: f.as } : {}),
    ...(f.targetDir ? { targetDir: f.targetDir } : {}),
    ...(f.envFile ? { envFile: resolve(f.envFile) } : {}),
    ...(f.allowPath?.length ? { allowPaths: f.allowPath } : {}),
    start: Boolean(f.start),
    recreateNetworks: Boolean(f.recreateNetworks),
    ...(f.replaceFiles ? { replaceFiles: true } : {}),
  };
}
