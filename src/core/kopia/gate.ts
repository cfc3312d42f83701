import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "../process/temp-dirs.ts";
import type { Kopia } from "./kopia.ts";
import type { KopiaPolicy } from "./policy-schema.ts";

/** Names the fifo a gated `kopia snapshot create` waits on (in that process's environment only). */
export const GATE_ENV = "KOPI_DOCKA_GATE";

/**
 * kopia's `before-snapshot-root` action of our identity's policy. kopia runs it after it has opened
 * the repository, found the previous snapshot and read the policy, and before it reads one file: so a
 * snapshot started while the containers still run pays its fixed cost (process start, key derivation,
 * repository open) outside the cold window and waits here until the containers are stopped.
 * It fails closed: only an explicit "go" on the fifo lets the snapshot read; no variable, a closed
 * fifo or a timeout fails the action, and an "essential" action that fails saves no snapshot. kopia
 * runs actions only for a snapshot started with `--force-enable-actions` (our connection never
 * enables them), so every other snapshot of these sources ignores it.
 */
export const GATE_SCRIPT = `# kopi-docka: wait until the unit's containers are stopped (see kopi-docka's README, "cold window")
read -r go < "$${GATE_ENV}"
test "$go" = go
`;

/** Set (in that process's environment only) for a warm pass of `warm-then-cold`. */
export const WARM_ENV = "KOPI_DOCKA_WARM";

/** Names the file a gated cold snapshot creates once it has read the whole tree (that process only). */
export const READ_ENV = "KOPI_DOCKA_READ";

/**
 * kopia's `after-snapshot-root` action. kopia runs it once the whole tree is read (every file hashed,
 * every directory listed: kopia waits for all of its workers first) and before it saves the manifest,
 * applies retention and flushes. Two uses:
 * - A cold snapshot names a file: it is created here, and the unit's containers may start from then on,
 *   while kopia saves what it read (`backup/frozen.ts`).
 * - A warm pass must never be a restore point nor take a retention slot, yet the cold snapshot after it
 *   must use it as its base. SIGINT to kopia (our parent) here saves the manifest marked incomplete
 *   ("canceled"), which retention skips and the next snapshot of the source still takes as a base.
 *   kopia notes the signal in a goroutine of its own, racing this action's return: a warm pass once
 *   came back complete without the pause (and a complete one takes a retention slot), so the action
 *   waits for it.
 * Every other snapshot (no variable) passes through untouched.
 */
export const WARM_SCRIPT = `# kopi-docka: a cold snapshot says it has read all; a warm pass is saved incomplete (see kopi-docka's README, "Backup modes")
test -z "$${READ_ENV}" || : > "$${READ_ENV}"
test -z "$${WARM_ENV}" || { kill -INT "$PPID" && sleep 2; }
`;

/** Longest a gated snapshot waits for its go: the stop of a unit's containers must fit in it. */
export const GATE_TIMEOUT_SECONDS = 7200;

/** True when `current` already holds the gate action exactly as `ensureGatePolicy` sets it. */
export function hasGateAction(current: KopiaPolicy): boolean {
  const a = current.actions?.beforeSnapshotRoot;
  const w = current.actions?.afterSnapshotRoot;
  return (
    a?.script === GATE_SCRIPT &&
    a.mode === "essential" &&
    a.timeout === GATE_TIMEOUT_SECONDS &&
    w?.script === WARM_SCRIPT &&
    w.mode === "essential"
  );
}

/**
 * Read-before-write of the gate action on `user@host` (the level every source of ours inherits): one
 * `policy show` per run (`current`: already read, e.g. side by side with the global policy), a
 * `policy set` only the first time.
 */
export async function ensureGatePolicy(
  kopia: Kopia,
  target: string,
  current?: Promise<KopiaPolicy>,
): Promise<boolean> {
  if (hasGateAction(await (current ?? kopia.policyShow(target)))) return false;
  // kopia reads a persisted action script from a file; it lives only for this call.
  const dir = makeTempDir("gate");
  try {
    const script = join(dir, "gate.sh");
    const warm = join(dir, "warm.sh");
    writeFileSync(script, GATE_SCRIPT, { mode: 0o600 });
    writeFileSync(warm, WARM_SCRIPT, { mode: 0o600 });
    await kopia.policySet(target, [
      "--before-snapshot-root-action",
      script,
      "--after-snapshot-root-action",
      warm,
      "--persist-action-script",
      "--action-command-mode=essential",
      `--action-command-timeout=${GATE_TIMEOUT_SECONDS}s`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return true;
}
