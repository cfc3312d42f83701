import { createHash } from "node:crypto";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { unpackBundle } from "./archive.ts";
import { decryptBundle } from "./crypto.ts";
import { BUNDLE_FORMAT, type BundleManifest } from "./model.ts";

const abs = z.string().startsWith("/");
/** What `openBundle` accepts; `sealBundle` checks its manifest against it before it encrypts. */
export const ManifestSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  created: z.string(),
  host: z.string().min(1),
  kopi_docka_version: z.string(),
  kopia_version: z.string().optional(),
  config_path: abs,
  password_file: abs,
  files: z.array(z.object({ key: z.string(), path: abs, stored: z.string().startsWith("secrets/files/") })),
  env: z.array(z.object({ key: z.string(), variable: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/) })),
  units: z.array(
    z.object({
      unit: z.string(),
      host: z.string(),
      point: z.string(),
      backupId: z.string(),
      timestamp: z.string(),
      volumes: z.array(z.string()),
      sizeBytes: z.number(),
    }),
  ),
});

export interface OpenedBundle {
  manifest: BundleManifest;
  files: Map<string, Uint8Array>;
  text(name: string): string;
}

/** The file list against SHA256SUMS: names of files that are missing or differ. */
function checksumProblems(files: Map<string, Uint8Array>): string[] {
  const sums = new TextDecoder().decode(files.get("SHA256SUMS") ?? new Uint8Array());
  const problems: string[] = [];
  for (const line of sums.split("\n").filter(Boolean)) {
    const [sum, name = ""] = line.split(/ {2}/);
    const data = files.get(name);
    if (!data) problems.push(`${name} is missing`);
    else if (createHash("sha256").update(data).digest("hex") !== sum) problems.push(`${name} differs`);
  }
  return problems;
}

/** Decrypts and reads a bundle: every file checked against SHA256SUMS, the manifest schema-checked. */
export async function openBundle(cipher: Uint8Array, passphrase: string): Promise<OpenedBundle> {
  const files = unpackBundle(await decryptBundle(cipher, passphrase));
  const text = (name: string) => {
    const data = files.get(name);
    if (!data) throw new AppError("check_failed", `the bundle has no ${name}`);
    return new TextDecoder().decode(data);
  };
  const problems = checksumProblems(files);
  if (problems.length || !files.has("SHA256SUMS"))
    throw new AppError(
      "check_failed",
      `the bundle's contents do not match SHA256SUMS: ${problems.join(", ") || "no SHA256SUMS"}`,
    );
  const parsed = ManifestSchema.safeParse(JSON.parse(text("manifest.json")));
  if (!parsed.success)
    throw new AppError("check_failed", `the bundle's manifest.json is not valid: ${parsed.error.message}`);
  for (const name of [
    "config.toml",
    "secrets/repository.password",
    ...parsed.data.files.map((f) => f.stored),
  ])
    text(name);
  return { manifest: parsed.data, files, text };
}
