import * as p from "@clack/prompts";
import { InterruptedError } from "../core/errors.ts";
import { formatBytes } from "../core/format.ts";
import { pointHosts, type RestorePoint, type RestorePoints } from "../core/restore/points.ts";
import { findPoint, pointsFor, type RestoreFlags } from "../core/restore/request.ts";
import type { RestoreRequest } from "../core/restore/types.ts";
import { pointLabel } from "./restore-report.ts";

export type WizardIo = Pick<p.CommonOptions, "input" | "output" | "signal">;

/** Cancel at any step (Ctrl+C, Esc): nothing was changed; the caller exits 130. */
export function answer<T>(value: T, io: WizardIo): Exclude<T, symbol> {
  if (p.isCancel(value)) declined(io);
  return value as Exclude<T, symbol>;
}

export function declined(io: WizardIo): never {
  p.cancel("restore cancelled; nothing was changed", io);
  throw new InterruptedError("SIGINT", "restore cancelled at the prompt");
}

/** Host → restore point → unit; a step the flags already answered is not asked. */
export async function askPoint(
  points: RestorePoints,
  thisHost: string,
  given: RestoreFlags,
  io: WizardIo,
): Promise<{ host: string; point: RestorePoint }> {
  const all = [...points.points, ...points.undoPoints];
  const hosts = pointHosts(all, thisHost).filter(
    (h) => !given.unit || all.some((x) => x.host === h && x.unit === given.unit),
  );
  if (hosts.length === 0)
    throw new InterruptedError(
      "SIGINT",
      `the repository has no restore points${given.unit ? ` of ${given.unit}` : ""}`,
    );
  const host =
    given.fromHost ??
    answer(
      await p.select({
        ...io,
        message: "Restore from which host?",
        options: hosts.map((h) => ({
          value: h,
          label: h,
          hint: h === thisHost ? "this host" : "another host",
        })),
      }),
      io,
    );
  if (given.unit && (given.run || given.latest))
    return { host, point: findPoint(pointsFor(points, host, given.unit), given, given.unit) };
  const mine = all.filter((x) => x.host === host && (!given.unit || x.unit === given.unit));
  const runs = groupByRun(mine).filter(
    ([, ps]) => !given.run || ps.some((x) => [x.backupId, x.runId].includes(given.run as string)),
  );
  const runId = answer(
    await p.select({
      ...io,
      message: "Which restore point?",
      options: runs.map(([id, ps]) => ({ value: id, label: runLabel(ps), hint: id })),
    }),
    io,
  );
  const inRun = runs.find(([id]) => id === runId)?.[1] ?? [];
  if (given.unit && inRun[0]) return { host, point: inRun[0] };
  const key = answer(
    await p.select({
      ...io,
      message: "Which unit?",
      options: inRun.map((x) => ({ value: x.key, label: x.unit, hint: pointLabel(x) })),
    }),
    io,
  );
  return { host, point: inRun.find((x) => x.key === key) as RestorePoint };
}

/** All, some volumes, bind mounts or the recipe; `--volume`/`--only` answer it. */
export async function askWhat(
  point: RestorePoint,
  given: RestoreFlags,
  io: WizardIo,
): Promise<Partial<Pick<RestoreRequest, "what" | "volumes">>> {
  if (given.volume?.length || given.only) return {};
  const what = answer(
    await p.select({
      ...io,
      message: "What should come back?",
      options: [
        { value: "all" as const, label: "Everything", hint: "volumes, bind mounts, networks, compose files" },
        { value: "volumes" as const, label: "Some volumes", hint: `${point.volumes.length} in this backup` },
        { value: "binds" as const, label: "Bind mounts", hint: `${point.binds.length} in this backup` },
        { value: "recipe" as const, label: "Recipe only", hint: "compose and project files" },
      ],
    }),
    io,
  );
  if (what !== "volumes") return { what };
  const volumes = answer(
    await p.multiselect({
      ...io,
      message: "Which volumes?",
      options: point.volumes.map((v) => ({ value: v.name, label: v.name, hint: formatBytes(v.sizeBytes) })),
      required: true,
    }),
    io,
  );
  return { what, volumes };
}

function groupByRun(points: RestorePoint[]): [string, RestorePoint[]][] {
  const runs = new Map<string, RestorePoint[]>();
  for (const x of points) runs.set(x.runId, [...(runs.get(x.runId) ?? []), x]);
  return [...runs.entries()].sort((a, b) =>
    (b[1][0]?.timestamp ?? "").localeCompare(a[1][0]?.timestamp ?? ""),
  );
}

function runLabel(ps: RestorePoint[]): string {
  const first = ps[0] as RestorePoint;
  const size = formatBytes(ps.reduce((n, x) => n + x.sizeBytes, 0));
  const kind = first.phase ? "undo point" : ps.every((x) => x.complete) ? "complete" : "INCOMPLETE";
  return `${first.timestamp.replace("T", " ").replace(/\.\d+Z$|Z$/, "")}  ${ps.map((x) => x.unit).join(", ")}  ${size}  ${kind}`;
}
