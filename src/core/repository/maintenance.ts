import { z } from "zod";
import { AppError } from "../errors.ts";
import type { Kopia } from "../kopia/kopia.ts";
import { parseKopiaJson } from "../kopia/parse.ts";
import { identity } from "../kopia/policy.ts";
import { checkSnapshots } from "./integrity.ts";
import { type OpenDeps, openRepository } from "./open.ts";
import { checkNothingVanished } from "./snapshot-ledger.ts";

export interface VerifyResult {
  percent: number;
  objects: number;
  filesRead: number;
  bytesRead: number;
  errors: string[];
  /** The snapshots (`user@host:/path@time`) an error was found in. */
  damaged: string[];
}

const VerifyJson = z.looseObject({
  stats: z.looseObject({
    processedObjectCount: z.number().optional(),
    readFileCount: z.number().optional(),
    readBytes: z.number().optional(),
  }),
  errorCount: z.number(),
  errorStrings: z.array(z.string()).optional(),
});

/**
 * `repo verify`: kopia's `snapshot verify` over every snapshot, reading `percent` % of the files'
 * contents back (0: the structure only). Damage is exit 1 naming the snapshots it was found in.
 */
export async function verifyRepository(d: OpenDeps, percent: number): Promise<VerifyResult> {
  await openRepository(d, "connect");
  const r = await d.kopia.run(
    ["snapshot", "verify", "--json", "--verify-files-percent", String(percent), "--no-progress"],
    { check: false, timeoutMs: 24 * 3_600_000 },
  );
  const json = r.stdout
    .trim()
    .split("\n")
    .find((l) => l.startsWith("{"));
  if (!json)
    throw new AppError(
      "check_failed",
      `kopia snapshot verify printed no result: ${r.stderr.trim().split("\n").pop()}`,
    );
  const v = parseKopiaJson(VerifyJson, json, "snapshot verify");
  const damaged = [
    ...new Set(
      [...r.stderr.matchAll(/^error processing (\S+@\S+:.*?@\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \w+)/gm)].map(
        (m) => m[1] ?? "",
      ),
    ),
  ];
  const result: VerifyResult = {
    percent,
    objects: v.stats.processedObjectCount ?? 0,
    filesRead: v.stats.readFileCount ?? 0,
    bytesRead: v.stats.readBytes ?? 0,
    errors: v.errorStrings ?? [],
    damaged,
  };
  if (v.errorCount > 0 || r.exitCode !== 0)
    throw Object.assign(
      new AppError(
        "check_failed",
        `the repository is damaged: ${v.errorCount} error(s)${damaged.length ? ` in ${damaged.join(", ")}` : ""}`,
        {
          hint: "restore those snapshots elsewhere to see what is lost; back up again to store the data anew",
        },
      ),
      { result },
    );
  return result;
}

/**
 * `repo maintenance`: kopia's maintenance (quick, or full with `full`). Only the owner may run it;
 * `setOwner` makes this host's identity the owner first.
 */
export async function runMaintenance(
  d: OpenDeps,
  o: { full: boolean; setOwner: boolean; acceptDeleted?: boolean; signal?: AbortSignal },
): Promise<{ owner: string | undefined; full: boolean }> {
  if (d.config.repository.backend === "server")
    throw new AppError("usage", "maintenance of a repository server's repository is done by the server", {
      hint: "kopia refuses it from a client; the server runs it (`kopia maintenance` on the server's own connection)",
    });
  await openRepository(d, "connect");
  if (o.setOwner) await d.kopia.run(["maintenance", "set", "--owner=me"], { timeoutMs: 300_000 });
  const owner = await d.kopia.maintenanceOwner();
  const me = identity({ kopia: d.kopia, hostname: d.kopia.options.hostname });
  if (owner && owner !== me)
    throw new AppError("usage", `maintenance of this repository is owned by ${owner}, not ${me}`, {
      hint: `run it there, or take it over here with \`kopi-docka repo maintenance --set-owner\``,
    });
  if (o.full)
    await guardFullMaintenance(d.kopia, d.paths.stateDir, { accept: o.acceptDeleted, signal: o.signal });
  await d.kopia.maintenanceRun({ full: o.full, signal: o.signal });
  return { owner: me, full: o.full };
}

/** How the guard's refusals end: what was not done, and why not. */
export const FULL_NOT_RUN = "full maintenance was not run (it would delete the packs that index listed)";

/**
 * What full maintenance needs first, by hand (`repo maintenance --full`) and in a backup alike. Full
 * maintenance deletes the pack blobs no index entry refers to: after a lost index blob, the very packs
 * `kopia index recover` would rebuild it from, whether the snapshots that used them now fail to read
 * or are simply no longer listed. So every snapshot must read (no file data) and none listed at the
 * last check may be gone without kopi-docka deleting it (`accept`: the person says they deleted them).
 * Damage found is an AppError naming it and what to do (a kopia that fails otherwise, its own error);
 * when all is well the snapshots are recorded as they are now, for the next check.
 */
export async function guardFullMaintenance(
  kopia: Kopia,
  stateDir: string,
  o: { accept?: boolean; signal?: AbortSignal } = {},
): Promise<void> {
  await checkSnapshots(kopia, FULL_NOT_RUN, o.signal);
  await checkNothingVanished(kopia, stateDir, {
    untouched: FULL_NOT_RUN,
    accept: o.accept,
    signal: o.signal,
  });
}
