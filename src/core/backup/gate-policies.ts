import { errorMessage } from "../caught.ts";
import { describeAction, ForeignActionError, foreignActions } from "../kopia/actions.ts";
import { ensureGatePolicy, isOurAction } from "../kopia/gate.ts";
import { identity } from "../kopia/policy.ts";
import type { KopiaPolicy } from "../kopia/policy-schema.ts";
import type { BackupDeps } from "./deps.ts";
import type { EarlyReads } from "./execute.ts";

/**
 * The gate action on our identity's policy (`kopia/gate.ts`), so each data snapshot opens the
 * repository before the stop. Without it every snapshot runs as ever, its fixed cost in the window.
 */
async function gatePolicy(
  d: BackupDeps,
  current?: Promise<KopiaPolicy>,
): Promise<"found" | "set" | undefined> {
  try {
    if (!(await ensureGatePolicy(d.kopia, identity(d), current))) return "found";
    d.log.info("set the cold-window gate action on this host's kopia policy");
    // As defined there (not kopia's effective view, which shows inherited ones): what was replaced.
    const before = (await current)?.actions;
    for (const field of ["beforeSnapshotRoot", "afterSnapshotRoot"] as const) {
      const was = before?.[field];
      if (was && !isOurAction(field, was))
        d.log.warn(
          `replaced ${identity(d)}'s ${field} kopia action (${describeAction(was)}) with kopi-docka's`,
        );
    }
    return "set";
  } catch (e) {
    d.log.warn(
      `snapshots will open the repository inside the cold window: gate policy not set: ${errorMessage(e)}`,
    );
    return undefined;
  }
}

/**
 * The gate (`gatePolicy`) and every defined policy, read once. A snapshot with the gate runs every
 * action kopia finds for its source (`--force-enable-actions`): it is taken only when that read shows
 * none but kopi-docka's (`kopia/actions.ts`), else the run is refused here, before any unit stops
 * anything. Without the policies read, no gate: nothing says which actions kopia would run.
 */
export async function gateAndPolicies(
  d: BackupDeps,
  early: EarlyReads,
): Promise<{ found: "found" | "set" | undefined; policies: Record<string, KopiaPolicy> | Error }> {
  const found = await gatePolicy(d, early.identityPolicy);
  const policies = await definedPolicies(d, early.definedPolicies);
  if (found === undefined) return { found, policies };
  if (policies instanceof Error) {
    d.log.warn(
      `snapshots will open the repository inside the cold window: kopia's policies not read: ${errorMessage(policies)}`,
    );
    return { found: undefined, policies };
  }
  const foreign = foreignActions(policies, identity(d));
  if (foreign.length === 0) return { found, policies };
  // Never opened while the read showed these (`run.ts`); closed all the same, should one be.
  await (await early.ahead)?.drop("kopia actions kopi-docka did not set");
  throw new ForeignActionError(foreign);
}

/**
 * Every defined policy in one `policy export`, for the read-before-write of each source's ignore
 * rules (one kopia process per run instead of one per source). A failure fails each data source's
 * policy step, as a failed read of its own policy would.
 */
async function definedPolicies(
  d: BackupDeps,
  read?: Promise<Record<string, KopiaPolicy>>,
): Promise<Record<string, KopiaPolicy> | Error> {
  try {
    return await (read ?? d.kopia.policyDefinedAll());
  } catch (e) {
    return e instanceof Error ? e : new Error(errorMessage(e));
  }
}
