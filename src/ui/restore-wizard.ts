import * as p from "@clack/prompts";
import { InterruptedError } from "../core/errors.ts";
import { pointHosts, type RestorePoint, type RestorePoints } from "../core/restore/points.ts";
import type { RestorePlan, RestoreRequest } from "../core/restore/types.ts";
import { formatBytes } from "./output.ts";
import { pointLabel, renderPlan } from "./restore-report.ts";

export interface WizardData {
  points: RestorePoints;
  thisHost: string;
  /** Plans a request (reads the recipe, looks at this host); the summary step shows its result. */
  preview: (request: RestoreRequest) => Promise<RestorePlan>;
}

export type WizardIo = Pick<p.CommonOptions, "input" | "output" | "signal">;

/** Cancel at any step (Ctrl+C, Esc): nothing was changed; the caller exits 130. */
function answer<T>(value: T, io: WizardIo): Exclude<T, symbol> {
  if (p.isCancel(value)) declined(io);
  return value as Exclude<T, symbol>;
}

function declined(io: WizardIo): never {
  p.cancel("restore cancelled; nothing was changed", io);
  throw new InterruptedError("SIGINT", "restore cancelled at the prompt");
}

/**
 * The restore wizard: host → restore point → unit → what → target → summary → confirm. Pure UI: it
 * asks, shows the plan `preview` returns, and returns the confirmed request. Never acts itself.
 */
export async function restoreWizard(data: WizardData, io: WizardIo = {}): Promise<RestoreRequest> {
  p.intro("kopi-docka restore", io);
  const hosts = pointHosts(data.points.points.concat(data.points.undoPoints), data.thisHost);
  if (hosts.length === 0) throw new InterruptedError("SIGINT", "the repository has no restore points");
  const host = answer(
    await p.select({
      ...io,
      message: "Restore from which host?",
      options: hosts.map((h) => ({
        value: h,
        label: h,
        hint: h === data.thisHost ? "this host" : "another host",
      })),
    }),
    io,
  );
  const mine = (list: RestorePoint[]) => list.filter((x) => x.host === host);
  const runs = groupByRun([...mine(data.points.points), ...mine(data.points.undoPoints)]);
  const runId = answer(
    await p.select({
      ...io,
      message: "Which restore point?",
      options: runs.map(([id, ps]) => ({ value: id, label: runLabel(ps), hint: id })),
    }),
    io,
  );
  const inRun = runs.find(([id]) => id === runId)?.[1] ?? [];
  const key = answer(
    await p.select({
      ...io,
      message: "Which unit?",
      options: inRun.map((x) => ({ value: x.key, label: x.unit, hint: pointLabel(x) })),
    }),
    io,
  );
  const point = inRun.find((x) => x.key === key) as RestorePoint;
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
  const volumes =
    what === "volumes"
      ? answer(
          await p.multiselect({
            ...io,
            message: "Which volumes?",
            options: point.volumes.map((v) => ({
              value: v.name,
              label: v.name,
              hint: formatBytes(v.sizeBytes),
            })),
            required: true,
          }),
          io,
        )
      : undefined;
  const target = answer(
    await p.select({
      ...io,
      message: "Where to?",
      options: [
        {
          value: "in-place" as const,
          label: "In place",
          hint: "overwrites what is there now (an undo point is taken)",
        },
        { value: "copy" as const, label: "Side-by-side copy", hint: "new project name, original untouched" },
      ],
    }),
    io,
  );
  const as =
    target === "copy"
      ? answer(
          await p.text({
            ...io,
            message: "Name of the copy (compose project name)?",
            placeholder: `${point.unit}-restored`,
            defaultValue: `${point.unit}-restored`,
            validate: (v) =>
              !v || /^[a-z0-9][a-z0-9_-]*$/.test(v) ? undefined : "lower-case letters, digits, - and _",
          }),
          io,
        )
      : undefined;
  const start = answer(
    await p.confirm({ ...io, message: "Start the unit afterwards?", initialValue: false }),
    io,
  );
  const request: RestoreRequest = {
    host,
    unit: point.unit,
    point: point.key,
    what,
    ...(volumes ? { volumes } : {}),
    ...(as ? { as } : {}),
    start,
    recreateNetworks: false,
  };
  const s = p.spinner({ ...io });
  s.start("Reading the backup's recipe and this host");
  // clack's spinner turns Ctrl+C into process.exit(0); with raw mode off it is a real SIGINT again.
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  const plan = await data.preview(request).finally(() => s.stop("Plan ready"));
  p.note(renderPlan(plan).join("\n"), "This restore will", io);
  const ok = answer(await p.confirm({ ...io, message: "Go ahead?", initialValue: false }), io);
  if (!ok) declined(io);
  p.outro("restoring", io);
  return request;
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

/** The flag path's confirmation on a terminal: the summary, then yes/no (default no). */
export async function confirmRestore(plan: RestorePlan, io: WizardIo = {}): Promise<void> {
  p.note(renderPlan(plan).join("\n"), "This restore will", io);
  const ok = answer(await p.confirm({ ...io, message: "Go ahead?", initialValue: false }), io);
  if (!ok) declined(io);
}
