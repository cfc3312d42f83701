import { z } from "zod";
import { fileAttributes } from "./file-attributes.ts";
import { cleanPath, dockerName, labelPath, storedCompose } from "./validate.ts";

/**
 * `unit.json` at the root of a recipe snapshot (ARCHITECTURE.md "Recipe layout"). Unknown keys kept.
 * Every name and path in it is checked (validate.ts): a forged recipe is refused, never acted on.
 */
export const UnitJsonSchema = z.looseObject({
  unit: dockerName("unit"),
  type: z.enum(["compose", "standalone"]),
  workingDir: cleanPath.nullable().optional(),
  backup_id: z.string().optional(),
  run_id: z.string().optional(),
  timestamp: z.string().optional(),
  scope: z.string().optional(),
  /** Compose files the backup could not find have `stored: null`; they are dropped here. */
  composeFiles: z
    .array(z.looseObject({ labelPath, stored: storedCompose.nullable() }))
    .default([])
    .transform((fs) => fs.flatMap((f) => (f.stored ? [{ labelPath: f.labelPath, stored: f.stored }] : []))),
  containers: z
    .array(
      z.looseObject({
        name: dockerName("container"),
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
        name: dockerName("volume"),
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
        source: cleanPath,
        /** Where `source` resolved to at backup time when a symlink was on its way (kopia follows it). */
        realSource: cleanPath.optional(),
        targets: z.array(z.looseObject({ container: z.string(), destination: z.string() })).default([]),
        readOnly: z.boolean().optional(),
        kind: z.string().optional(),
      }),
    )
    .default([]),
  networks: z.array(dockerName("network")).default([]),
  /** Each compose and project file's mode, owner and mtime at backup time (absent in older recipes). */
  fileAttributes,
});
export type UnitJson = z.infer<typeof UnitJsonSchema>;
