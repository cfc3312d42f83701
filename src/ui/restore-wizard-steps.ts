import * as p from "@clack/prompts";
import { InterruptedError } from "../core/errors.ts";
import { formatBytes } from "../core/format.ts";
import { pointHosts, type RestorePoint, type RestorePoints } from "../core/restore/points.ts";
import { findPoint, pointsFor, type RestoreFlags } from "../core/restore/request.ts";
import type { RestoreRequest } from "../core/restore/types.ts";

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

/** Host → unit → one of its restore points; a step the flags already answered is not asked. */
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
  const unit =
    given.unit ??
    (await askUnit(
      all.filter((x) => x.host === host && (!given.run || [x.key, x.backupId, x.runId].includes(given.run))),
      io,
    ));
  const candidates = pointsFor(points, host, unit);
  if (given.run || given.latest) return { host, point: findPoint(candidates, given, unit) };
  const key = answer(
    await p.select({
      ...io,
      message: `Which restore point of ${unit}?`,
      options: candidates.map((x) => ({ value: x.key, label: pointOption(x), hint: x.runId })),
    }),
    io,
  );
  const point = candidates.find((x) => x.key === key);
  if (!point) throw new Error(`restore wizard: ${key} was offered but is not a restore point`);
  return { host, point };
}

/** Each unit with restore points on the host, with its newest backup. */
async function askUnit(mine: RestorePoint[], io: WizardIo): Promise<string> {
  const units = [...new Set(mine.map((x) => x.unit))].sort();
  return answer(
    await p.select({
      ...io,
      message: "Which unit?",
      options: units.map((u) => {
        const newest = mine.find((x) => x.unit === u && !x.phase) ?? mine.find((x) => x.unit === u);
        const n = mine.filter((x) => x.unit === u).length;
        return { value: u, label: u, hint: `${n} point${n === 1 ? "" : "s"}, newest ${stamp(newest)}` };
      }),
    }),
    io,
  );
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

const stamp = (x: RestorePoint | undefined) =>
  (x?.timestamp ?? "").replace("T", " ").replace(/\.\d+Z$|Z$/, "");

function pointOption(x: RestorePoint): string {
  const kind = x.phase ? "undo point" : x.complete ? "complete" : "INCOMPLETE";
  return `${stamp(x)}  ${formatBytes(x.sizeBytes)}  ${x.scope}  ${kind}`;
}
