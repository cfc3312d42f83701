import { errorMessage } from "../caught.ts";
import { applyIdentityPolicy, identity, ownRetention, wholeDataFlags } from "../kopia/policy.ts";
import type { KopiaPolicy } from "../kopia/policy-schema.ts";
import type { BackupDeps } from "./deps.ts";
import type { EarlyReads } from "./execute.ts";
import type { PhaseError } from "./result.ts";

/**
 * The policy a run brings to what it needs before any unit, read-before-write from the run's one
 * `policy export` (`defined`): kopi-docka's identity policy (`kopi-docka@HOST`) with kopia's own
 * retention off (`[retention]` applies to whole points instead) and the configured compression.
 * Notes in `reads` whether it was written (snapshots opened ahead are then dropped) and whether kopia
 * keeps every snapshot of ours (a warm pass may then be saved complete): not when a single source's
 * own policy sets retention, which is warned about with the command that resets it. A failure is a
 * run error in `early`, never a failed run.
 */
export async function applyRunPolicies(
  d: Pick<BackupDeps, "kopia" | "hostname" | "config" | "log">,
  defined: Promise<Record<string, KopiaPolicy>> | undefined,
  reads: EarlyReads,
  early: PhaseError[],
): Promise<void> {
  const me = identity(d);
  const all = defined ?? Promise.resolve({} as Record<string, KopiaPolicy>);
  try {
    const current = all.then((p) => p[me] ?? {});
    reads.policyWritten = (await applyIdentityPolicy(d.kopia, d.config, me, d.log, current)).length > 0;
    const own = ownRetention(await all, me);
    for (const target of own)
      d.log.warn(
        `kopia's policy for ${target} sets its own retention: kopia expires those snapshots by itself, source by source, splitting restore points; reset it: kopi-docka kopia -- policy set ${target} --keep-latest=inherit --keep-hourly=inherit --keep-daily=inherit --keep-weekly=inherit --keep-monthly=inherit --keep-annual=inherit`,
      );
    reads.keepsEverything = own.length === 0;
  } catch (e) {
    // A failed `policy set` may still have written.
    reads.policyWritten = true;
    const message = `${me}'s kopia policy not updated: ${errorMessage(e)}`;
    early.push({ phase: "policy", message });
    d.log.warn(message);
    // Without its whole-data part kopia may skip files the data names (`.kopiaignore`): no data
    // snapshot is then taken, rather than one recorded whole that is not.
    const before = await all.catch(() => undefined);
    if (!before || wholeDataFlags(before[me] ?? {}).length > 0)
      reads.notWhole = `not snapshotted: kopia might leave files out (${message})`;
  }
}
