import { z } from "zod";
import type { RepositoryConfig } from "../../../config/schema.ts";
import { redactText } from "../../snapshot/redact.ts";
import type { Backend } from "../backend.ts";
import { judgeListing, storageMatches, throttleArgs } from "../backend.ts";
import { absolutePath, nonEmpty } from "../fields.ts";

export const rcloneSchema = z.strictObject({
  backend: z.literal("rclone"),
  /** An rclone `remote:path` (any of rclone's providers). */
  remote_path: nonEmpty
    .refine((p) => p.includes(":"), "an rclone remote:path")
    // A connection string (`:s3,secret_access_key=…:bucket`) reaches kopia's and rclone's command
    // lines, which every user sees in `ps`, and kopia's saved connection.
    .refine(
      (p) => redactText(p) === p,
      "no secret in remote_path (a connection string's key=value reaches the command line every user sees): define the remote with `rclone config`, set config_file, and name the remote here",
    ),
  /** The rclone program; "" : rclone on PATH. */
  rclone_exe: z.union([z.literal(""), absolutePath]).default(""),
  /** rclone's config file holding the remote (its secrets stay there). Unset: rclone's default. */
  config_file: absolutePath.optional(),
});

type Rclone = Extract<RepositoryConfig, { backend: "rclone" }>;

export const rclone: Backend<Rclone> = {
  canCreate: true,
  storageArgs: (r) => [
    "rclone",
    "--remote-path",
    r.remote_path,
    ...(r.rclone_exe ? ["--rclone-exe", r.rclone_exe] : []),
    // kopia keeps --rclone-env in its connection and gives it to every rclone it starts later.
    ...(r.config_file ? ["--rclone-env", `RCLONE_CONFIG=${r.config_file}`] : []),
    ...throttleArgs(r),
  ],
  secrets: () => [],
  // For our own `rclone lsf` look at the location.
  env: (r): Record<string, string> => (r.config_file ? { RCLONE_CONFIG: r.config_file } : {}),
  tools: (r) => [r.rclone_exe || "rclone"],
  async probeRemote(r, io) {
    const res = await io.runner.run([r.rclone_exe || "rclone", "lsf", r.remote_path], {
      env: io.env,
      check: false,
      timeoutMs: 120_000,
    });
    if (res.exitCode !== 0) return /not found|doesn't exist|no such/i.test(res.stderr) ? "empty" : "unknown";
    return judgeListing(res.stdout.split("\n"));
  },
  describe: (r) => `rclone ${r.remote_path}`,
  // kopia starts rclone with the saved exe and env: another config_file may define the remote elsewhere.
  matches: (saved, r) =>
    storageMatches(saved, "rclone", { remotePath: r.remote_path, rcloneExe: r.rclone_exe || undefined }, r) &&
    JSON.stringify(saved.storage?.config.rcloneEnv ?? []) ===
      JSON.stringify(r.config_file ? [`RCLONE_CONFIG=${r.config_file}`] : []),
};
