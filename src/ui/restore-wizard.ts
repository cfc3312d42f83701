import { basename, resolve } from "node:path";
import * as p from "@clack/prompts";
import type { RestorePoints } from "../core/restore/points.ts";
import { type RestoreFlags, requestOptions } from "../core/restore/request.ts";
import type { RestorePlan, RestoreRequest } from "../core/restore/types.ts";
import { renderRestorePlan } from "./restore-report.ts";
import { answer, askPoint, askWhat, declined, type WizardIo } from "./restore-wizard-steps.ts";

export type { WizardIo } from "./restore-wizard-steps.ts";

export interface WizardData {
  points: RestorePoints;
  thisHost: string;
  /** Plans a request (reads the recipe, looks at this host); the summary step shows its result. */
  preview: (request: RestoreRequest) => Promise<RestorePlan>;
  /** Flags given on the command line: their steps are not asked. */
  given?: RestoreFlags;
}

/**
 * The restore wizard: host → unit → its restore point → what → target → start → (replace a
 * conflicting network? differing compose files?) → summary → confirm. Pure
 * UI: it asks what the flags left open, shows the plan `preview` returns, and returns the confirmed
 * request. Never acts itself.
 */
export async function restoreWizard(data: WizardData, io: WizardIo = {}): Promise<RestoreRequest> {
  const given = data.given ?? {};
  p.intro("kopi-docka restore", io);
  const { host, point } = await askPoint(data.points, data.thisHost, given, io);
  const what = await askWhat(point, given, io);
  const as =
    given.as ??
    ((await askTarget(io)) === "copy"
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
      : undefined);
  const start =
    given.start ??
    answer(await p.confirm({ ...io, message: "Start the unit afterwards?", initialValue: false }), io);
  let request: RestoreRequest = {
    host,
    unit: point.unit,
    point: point.key,
    ...requestOptions({ ...given, ...(as ? { as } : {}), start }),
    ...what,
  };
  let plan = await previewWithSpinner(data, request, io);
  const conflicts = plan.networks.filter((n) => n.action === "conflict");
  if (conflicts.length) {
    const names = conflicts.map((n) => n.name).join(", ");
    const replace = answer(
      await p.confirm({
        ...io,
        message: `Network ${names} exists with another driver or subnet. Replace it (attached containers are reconnected)?`,
        initialValue: false,
      }),
      io,
    );
    if (!replace) declined(io);
    request = { ...request, recreateNetworks: true };
    plan = await previewWithSpinner(data, request, io);
  }
  for (const path of plan.confirmPaths ?? []) {
    // A backup never holds a host-internal path, and the point names a private one (a hidden directory,
    // /var/spool) itself: only the person can say this one is meant.
    const ok = answer(
      await p.confirm({
        ...io,
        message: `The restore point writes to or mounts ${path}, a host-internal path (backup.host_internal_paths) or a private one (hidden, /var/spool). Restore there?`,
        initialValue: false,
      }),
      io,
    );
    if (!ok) declined(io);
    request = { ...request, allowPaths: [...(request.allowPaths ?? []), path] };
  }
  if (plan.confirmPaths?.length) plan = await previewWithSpinner(data, request, io);
  const differ = plan.files.filter((f) => f.action === "overwrite").map((f) => basename(f.to));
  if (differ.length && !request.replaceFiles) {
    const replace = answer(
      await p.confirm({
        ...io,
        message: `${plan.targetDir} holds other versions of ${differ.join(", ")} than the backup. Replace them (each old one is kept as <file>.bak-<time>)?`,
        initialValue: false,
      }),
      io,
    );
    if (!replace) declined(io);
    request = { ...request, replaceFiles: true };
    plan = await previewWithSpinner(data, request, io);
  }
  if (plan.refusals.length && request.start && !request.envFile) {
    // Standalone containers whose secrets were redacted: their values, or no start.
    p.note(plan.refusals.join("\n"), "Cannot start as backed up", io);
    const file = answer(
      await p.text({
        ...io,
        message: "Env file with the real values (KEY=value lines; empty: do not start)",
      }),
      io,
    );
    request = file ? { ...request, envFile: resolve(file) } : { ...request, start: false };
    plan = await previewWithSpinner(data, request, io);
  }
  if (!given.yes) await confirmRestore(plan, io);
  p.outro("restoring", io);
  return request;
}

async function askTarget(io: WizardIo): Promise<"in-place" | "copy"> {
  return answer(
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
}

async function previewWithSpinner(data: WizardData, request: RestoreRequest, io: WizardIo) {
  const s = p.spinner({ ...io });
  s.start("Reading the backup's recipe and this host");
  // clack's spinner turns Ctrl+C into process.exit(0); with raw mode off it is a real SIGINT again.
  if (process.stdin.isTTY) process.stdin.setRawMode(false);
  return data.preview(request).finally(() => s.stop("Plan ready"));
}

/** The summary, then yes/no (default no); also the flag path's confirmation on a terminal. */
export async function confirmRestore(plan: RestorePlan, io: WizardIo = {}): Promise<void> {
  p.note(renderRestorePlan(plan).join("\n"), "This restore will", io);
  const ok = answer(await p.confirm({ ...io, message: "Go ahead?", initialValue: false }), io);
  if (!ok) declined(io);
}
