import { z } from "zod";
import { errorMessage } from "../caught.ts";
import { SNAPSHOT_TYPES } from "../snapshot/tags.ts";
import {
  type MaintenanceResult,
  PHASES,
  type RunRecord,
  type SourceResult,
  type UnitResult,
} from "./result.ts";

/**
 * A run record as read back from `<state_dir>/runs/*.json`. Anyone who can write that directory can
 * put a file there, and a record may come from an older kopi-docka: each is checked, never cast, as
 * the backup itself reads them (last sizes and cold windows), and one stray file must not stop it.
 * Required here is what every version wrote from the first (4d4ba02); every field added since is
 * optional in `result.ts` and here. Unknown keys are kept (a newer version's, shown by `--json`).
 */

const isoTime = z.iso.datetime();
const count = z.number().nonnegative();
const strings = z.array(z.string());
const runStatus = z.enum(["ok", "partial", "failed", "restart_failed"]);
const unitStatus = z.enum(["ok", "failed", "skipped"]);
const maintenanceStatus = z.enum(["ok", "failed", "refused", "interrupted", "skipped"]);

const PhaseErrorSchema = z.looseObject({
  phase: z.enum(PHASES),
  message: z.string(),
  item: z.string().optional(),
  stderrTail: z.string().optional(),
  next: z.string().optional(),
});

const SourceResultSchema = z.looseObject({
  type: z.enum(SNAPSHOT_TYPES),
  label: z.string(),
  status: unitStatus,
  snapshotId: z.string().optional(),
  bytes: count.optional(),
  files: count.optional(),
  durationMs: count,
  reason: z.string().optional(),
  stderrTail: z.string().optional(),
  warning: z.string().optional(),
});

const UnitResultSchema = z.looseObject({
  name: z.string(),
  backupId: z.string(),
  timestamp: z.string(),
  status: unitStatus,
  sources: z.array(SourceResultSchema),
  stopped: strings,
  restartFailed: strings,
  errors: z.array(PhaseErrorSchema),
  durationMs: count,
  bytes: count.optional(),
  coldWindowMs: count.optional(),
  frozenWindowMs: count.optional(),
  notProtected: strings.optional(),
  warnings: strings.optional(),
});

const ReplicaResultSchema = z.looseObject({
  name: z.string(),
  location: z.string(),
  status: z.enum(["ok", "failed"]),
  durationMs: count,
  error: z.string().optional(),
});

const MaintenanceResultSchema = z.looseObject({
  kind: z.enum(["quick", "full"]),
  status: maintenanceStatus,
  startedAt: isoTime,
  durationMs: count,
  checkMs: count.optional(),
  reason: z.string().optional(),
});

export const RunRecordSchema: z.ZodType<RunRecord> = z.looseObject({
  runId: z.string().min(1),
  version: z.string(),
  hostname: z.string(),
  scope: z.string(),
  startedAt: isoTime,
  finishedAt: isoTime,
  durationMs: count,
  status: runStatus,
  units: z.array(UnitResultSchema),
  errors: z.array(PhaseErrorSchema),
  restartFailed: strings.optional(),
  warnings: strings.optional(),
  interrupted: z.string().optional(),
  replicas: z.array(ReplicaResultSchema).optional(),
  maintenance: z.array(MaintenanceResultSchema).optional(),
  expired: strings.optional(),
  sequence: z.number().int().positive().optional(),
});

// The status lists above are those of `result.ts`, no fewer: a status added there and not here would
// make every record holding it unreadable. Compile-time checks, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameStatuses: [
  Same<z.infer<typeof runStatus>, RunRecord["status"]>,
  Same<z.infer<typeof unitStatus>, UnitResult["status"]>,
  Same<z.infer<typeof unitStatus>, SourceResult["status"]>,
  Same<z.infer<typeof maintenanceStatus>, MaintenanceResult["status"]>,
] = [true, true, true, true];
void sameStatuses;

/** The first problems zod found, as `path: message`, for a warning line. */
function issuesLine(error: z.ZodError): string {
  const shown = error.issues
    .slice(0, 2)
    .map((i) => `${i.path.join(".") || "(the whole file)"}: ${i.message}`);
  const more = error.issues.length - shown.length;
  return `${shown.join("; ")}${more > 0 ? ` (and ${more} more)` : ""}`;
}

/** One file's text as a run record, or why it is none (not JSON, a torn write, a foreign shape). */
export function parseRunRecord(text: string): { record: RunRecord } | { why: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { why: `not JSON (${errorMessage(e)})` };
  }
  const parsed = RunRecordSchema.safeParse(raw);
  return parsed.success ? { record: parsed.data } : { why: `not a run record: ${issuesLine(parsed.error)}` };
}
