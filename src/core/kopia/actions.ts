import { AppError } from "../errors.ts";
import { shellQuote } from "../format.ts";
import { hasGateAction, isOurAction } from "./gate.ts";
import type { KopiaAction, KopiaPolicy } from "./policy-schema.ts";

/** The action fields of a kopia policy, each with kopia's name for it (`policy set --NAME-action`). */
const FIELDS = {
  beforeSnapshotRoot: "before-snapshot-root",
  afterSnapshotRoot: "after-snapshot-root",
  beforeFolder: "before-folder",
  afterFolder: "after-folder",
} as const;
export type ActionField = keyof typeof FIELDS;

/** An action kopia would run that kopi-docka did not write; `what` is safe to print (`describeAction`). */
export interface ForeignAction {
  target: string;
  field: ActionField;
  what: string;
}

/**
 * The actions other than kopi-docka's own that kopia (v0.23.1) would run in a snapshot of a source of
 * `me` (`user@host`) started with `--force-enable-actions`, from every defined policy (`policy
 * export`). Pure. What kopia does (snapshot/policy/policy_merge.go, upload/upload.go; each case run
 * against a repository):
 * - a root action (before/after-snapshot-root) is inherited, whole, from the most specific level that
 *   defines it: the source's path, each parent path, `user@host`, `@host`, global;
 * - a folder action (before/after-folder) is not inherited: only a policy defined at the source's path
 *   or at a directory below it runs its own; one on `user@host`, `@host` or global never runs.
 * The caller has made the gate `me`'s (`ensureGatePolicy` replaces anything else there), so both root
 * fields are defined on `me`, and `@host`'s and the global root actions are never reached; no other
 * user's or host's policy applies. What remains is every `me:<path>` policy: it may be a source's, a
 * parent's or a directory's inside one, and kopi-docka sets no action there, so each of its actions
 * counts unless it is exactly ours.
 */
export function foreignActions(defined: Record<string, KopiaPolicy>, me: string): ForeignAction[] {
  const found: ForeignAction[] = [];
  for (const [target, policy] of Object.entries(defined)) {
    if (!target.startsWith(`${me}:`)) continue;
    for (const field of Object.keys(FIELDS) as ActionField[]) {
      const action = policy.actions?.[field];
      if (action === undefined || isOurs(field, action)) continue;
      found.push({ target, field, what: describeAction(action) });
    }
  }
  return found.sort((a, b) => a.target.localeCompare(b.target));
}

/**
 * True when a snapshot started now with `--force-enable-actions` runs kopi-docka's actions and no
 * other: the gate already on `me` as read (nothing to replace) and no foreign action below it.
 */
export function onlyOurActions(defined: Record<string, KopiaPolicy>, me: string): boolean {
  return hasGateAction(defined[me] ?? {}) && foreignActions(defined, me).length === 0;
}

const isOurs = (field: ActionField, action: KopiaAction) =>
  (field === "beforeSnapshotRoot" || field === "afterSnapshotRoot") && isOurAction(field, action);

/** Longest part of an action's first line a message quotes: enough to recognise it, never the body. */
const SHOWN_CHARS = 60;

/**
 * An action as a message may show it: its command, or the first line of its script, cut to
 * `SHOWN_CHARS` and JSON-quoted (the script is untrusted: never printed whole), with its mode.
 */
export function describeAction(a: KopiaAction): string {
  const cut = (s: string) => JSON.stringify(s.length > SHOWN_CHARS ? `${s.slice(0, SHOWN_CHARS)}…` : s);
  const lines = a.script?.split("\n").filter((l) => l.trim() !== "") ?? [];
  const body = a.script
    ? `script ${cut(lines[0]?.trim() ?? "")}${lines.length > 1 ? ` (+${lines.length - 1} lines)` : ""}`
    : `command ${cut(a.path ?? "")}${a.args?.length ? ` (+${a.args.length} args)` : ""}`;
  return `${body}, mode ${a.mode ?? "optional"}`;
}

/**
 * The repository's policies would have kopia run a command kopi-docka did not set, as root on this
 * host, in the run's snapshots. Thrown before anything stops; exit 10 (`repository`): the repository
 * must be put right, the config is fine.
 */
export class ForeignActionError extends AppError {
  readonly found: readonly ForeignAction[];
  constructor(found: readonly ForeignAction[]) {
    const listed = found.slice(0, 5).map((f) => `${f.target} ${FIELDS[f.field]}: ${f.what}`);
    const targets = [...new Set(found.map((f) => f.target))];
    const commands = targets.slice(0, 3).map((t) => {
      const flags = found.filter((f) => f.target === t).map((f) => `--${FIELDS[f.field]}-action=`);
      return `kopi-docka kopia -- policy set ${shellQuote(t)} ${flags.join(" ")}`;
    });
    super(
      "repository",
      `kopia policies in the repository hold ${found.length} action(s) kopi-docka did not set, which this backup would run as root on this host: ${listed.join("; ")}${found.length > 5 ? "; …" : ""}. Nothing was stopped or snapshotted`,
      {
        hint: `if you did not set them, someone with the repository password did: look at them (kopi-docka kopia -- policy show TARGET), then remove them (an empty value removes an action; kopia 0.23.1 takes "none" as a command): ${commands.join("; ")}${targets.length > 3 ? "; …" : ""}`,
      },
    );
    this.found = found;
  }
}
