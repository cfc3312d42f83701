import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "../process/temp-dirs.ts";
import type { Kopia } from "./kopia.ts";
import type { KopiaAction, KopiaPolicy } from "./policy-schema.ts";

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

/** Names the file a gated cold snapshot creates once it has read the whole tree (that process only). */
export const READ_ENV = "KOPI_DOCKA_READ";

/**
 * kopia's `after-snapshot-root` action. kopia runs it once the whole tree is read (every file hashed,
 * every directory listed: kopia waits for all of its workers first) and before it saves the manifest,
 * applies retention and flushes. A cold snapshot names a file: it is created here, and the unit's
 * containers may start from then on, while kopia saves what it read (`backup/frozen.ts`). Every other
 * snapshot (no variable) passes through untouched. (Until 2026-12 it also made a warm pass incomplete
 * by SIGINT; a warm pass is now saved complete, see `backup/warm.ts`.)
 */
export const READ_SCRIPT = `# kopi-docka: a cold snapshot says it has read all (see kopi-docka's README, "cold window")
test -z "$${READ_ENV}" || : > "$${READ_ENV}"
`;

/** Longest a gated snapshot waits for its go: the stop of a unit's containers must fit in it. */
export const GATE_TIMEOUT_SECONDS = 7200;

/**
 * The root actions `ensureGatePolicy` writes, as kopia stores them: the only actions a snapshot that
 * runs actions may run (`actions.ts`). kopia applies `--action-command-timeout` to both.
 */
export const OUR_ACTIONS = {
  beforeSnapshotRoot: { script: GATE_SCRIPT, mode: "essential", timeout: GATE_TIMEOUT_SECONDS },
  afterSnapshotRoot: { script: READ_SCRIPT, mode: "essential", timeout: GATE_TIMEOUT_SECONDS },
} as const;

/** True when `action` is exactly kopi-docka's own `field` action: script, mode, timeout, no command. */
export function isOurAction(field: keyof typeof OUR_ACTIONS, action: KopiaAction | undefined): boolean {
  const ours = OUR_ACTIONS[field];
  return (
    action?.script === ours.script &&
    action.mode === ours.mode &&
    action.timeout === ours.timeout &&
    action.path === undefined &&
    action.args === undefined
  );
}

/** True when `current` already holds the gate actions exactly as `ensureGatePolicy` sets them. */
export function hasGateAction(current: KopiaPolicy): boolean {
  return (
    isOurAction("beforeSnapshotRoot", current.actions?.beforeSnapshotRoot) &&
    isOurAction("afterSnapshotRoot", current.actions?.afterSnapshotRoot)
  );
}

/**
 * Read-before-write of the gate action on `user@host` (the level every source of ours inherits): one
 * `policy show` per run (`current`: already read, e.g. side by side with the global policy), a
 * `policy set` only the first time. Any other action there (an older kopi-docka's gate, or one
 * someone with the repository password put there) is replaced whole: `policy set` drops its command
 * and arguments too.
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
    const read = join(dir, "read.sh");
    writeFileSync(script, GATE_SCRIPT, { mode: 0o600 });
    writeFileSync(read, READ_SCRIPT, { mode: 0o600 });
    await kopia.policySet(target, [
      "--before-snapshot-root-action",
      script,
      "--after-snapshot-root-action",
      read,
      "--persist-action-script",
      "--action-command-mode=essential",
      `--action-command-timeout=${GATE_TIMEOUT_SECONDS}s`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return true;
}
