import { z } from "zod";

/** `unit.json` at the root of a recipe snapshot (ARCHITECTURE.md "Recipe layout"). Unknown keys kept. */
export const UnitJsonSchema = z.looseObject({
  unit: z.string(),
  type: z.enum(["compose", "standalone"]),
  workingDir: z.string().nullable().optional(),
  backup_id: z.string().optional(),
  run_id: z.string().optional(),
  timestamp: z.string().optional(),
  scope: z.string().optional(),
  /** Compose files the backup could not find have `stored: null`; they are dropped here. */
  composeFiles: z
    .array(z.looseObject({ labelPath: z.string(), stored: z.string().nullable() }))
    .default([])
    .transform((fs) => fs.flatMap((f) => (f.stored ? [{ labelPath: f.labelPath, stored: f.stored }] : []))),
  containers: z
    .array(
      z.looseObject({
        name: z.string(),
        service: z.string().optional(),
        image: z.string(),
        running: z.boolean().optional(),
        restartPolicy: z.string().optional(),
      }),
    )
    .default([]),
  volumes: z
    .array(
      z.looseObject({
        name: z.string(),
        driver: z.string().default("local"),
        options: z.record(z.string(), z.string()).nullable().default({}),
        labels: z.record(z.string(), z.string()).nullable().default({}),
        usedBy: z.array(z.string()).default([]),
      }),
    )
    .default([]),
  bindMounts: z
    .array(
      z.looseObject({
        source: z.string(),
        targets: z.array(z.looseObject({ container: z.string(), destination: z.string() })).default([]),
        readOnly: z.boolean().optional(),
        kind: z.string().optional(),
      }),
    )
    .default([]),
  networks: z.array(z.string()).default([]),
});
export type UnitJson = z.infer<typeof UnitJsonSchema>;
