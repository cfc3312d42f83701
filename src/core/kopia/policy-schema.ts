import { z } from "zod";

/** The part of `policy show --json` kopi-docka reads; everything else is kept untouched. */
const ActionSchema = z.looseObject({
  /** A command kopia runs (`args` its arguments); `script` wins over it when both are set. */
  path: z.string().optional(),
  args: z.array(z.string()).optional(),
  script: z.string().optional(),
  mode: z.string().optional(),
  timeout: z.number().optional(),
});

export const KopiaPolicySchema = z.looseObject({
  retention: z
    .looseObject({
      keepLatest: z.number().optional(),
      keepHourly: z.number().optional(),
      keepDaily: z.number().optional(),
      keepWeekly: z.number().optional(),
      keepMonthly: z.number().optional(),
      keepAnnual: z.number().optional(),
      ignoreIdenticalSnapshots: z.boolean().optional(),
    })
    .optional(),
  files: z
    .looseObject({
      ignore: z.array(z.string()).optional(),
      ignoreDotFiles: z.array(z.string()).optional(),
      ignoreCacheDirs: z.boolean().optional(),
      maxFileSize: z.number().optional(),
      oneFileSystem: z.boolean().optional(),
    })
    .optional(),
  errorHandling: z
    .looseObject({ ignoreFileErrors: z.boolean().optional(), ignoreDirectoryErrors: z.boolean().optional() })
    .optional(),
  compression: z.looseObject({ compressorName: z.string().optional() }).optional(),
  actions: z
    .looseObject({
      beforeSnapshotRoot: ActionSchema.optional(),
      afterSnapshotRoot: ActionSchema.optional(),
      beforeFolder: ActionSchema.optional(),
      afterFolder: ActionSchema.optional(),
    })
    .optional(),
});
export type KopiaAction = z.infer<typeof ActionSchema>;
export type MaintenanceInfo = z.infer<typeof MaintenanceInfoSchema>;
export type KopiaPolicy = z.infer<typeof KopiaPolicySchema>;

/** `maintenance info --json`: the owner, whether the full cycle is on, and the schedule. */
export const MaintenanceInfoSchema = z.looseObject({
  owner: z.string().optional(),
  /** kopia's full cycle (`maintenance set --enable-full`, `--full-interval`: nanoseconds). */
  full: z.looseObject({ enabled: z.boolean().optional(), interval: z.number().optional() }).optional(),
  /** When kopia's schedule next wants each kind (RFC 3339). */
  schedule: z
    .looseObject({ nextQuickMaintenance: z.string().optional(), nextFullMaintenance: z.string().optional() })
    .optional(),
});
