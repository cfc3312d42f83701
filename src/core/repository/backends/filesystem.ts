import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { Backend } from "../backend.ts";
import { storageMatches, throttleArgs } from "../backend.ts";
import { absolutePath } from "../fields.ts";

export const filesystemSchema = z.strictObject({
  backend: z.literal("filesystem"),
  /** Directory holding the kopia repository (a local disk or a mounted one). */
  path: absolutePath.default("/var/lib/kopi-docka/repository"),
});

/** Files kopia writes at the root of a filesystem repository. */
const MARKERS = ["kopia.repository.f", "kopia.repository"];

export function filesystemRepositoryExists(path: string): boolean {
  return MARKERS.some((m) => existsSync(join(path, m)));
}

type Fs = Extract<import("../../../config/schema.ts").RepositoryConfig, { backend: "filesystem" }>;

export const filesystem: Backend<Fs> = {
  canCreate: true,
  storageArgs: (r) => ["filesystem", "--path", r.path, ...throttleArgs(r)],
  secrets: () => [],
  tools: () => [],
  describe: (r) => r.path,
  matches: (saved, r) => storageMatches(saved, "filesystem", { path: r.path }, r),
  probe(r) {
    if (filesystemRepositoryExists(r.path)) return "repository";
    if (!existsSync(r.path)) return "missing";
    return readdirSync(r.path).length === 0 ? "empty" : "foreign";
  },
};
