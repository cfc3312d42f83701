import { createHash } from "node:crypto";
import { basename } from "node:path";
import { shellQuote } from "../format.ts";
import {
  BUNDLE_DIR,
  BUNDLE_FORMAT,
  type BundleEntry,
  type BundleInput,
  type BundleManifest,
} from "./model.ts";
import { bundleReadme } from "./readme.ts";
import { recoverScript } from "./recover-script.ts";

const text = (s: string) => new TextEncoder().encode(s);
const json = (v: unknown) => text(`${JSON.stringify(v, null, 2)}\n`);
const sha256 = (d: Uint8Array) => createHash("sha256").update(d).digest("hex");

/** Where a carried file goes inside the bundle: numbered, so two `key.pem` never collide. */
export function storedName(index: number, path: string): string {
  const safe =
    basename(path)
      .replace(/[^A-Za-z0-9._-]/g, "_")
      .slice(0, 40) || "file";
  return `secrets/files/${String(index + 1).padStart(2, "0")}-${safe}`;
}

export function bundleManifest(input: BundleInput): BundleManifest {
  return {
    format: BUNDLE_FORMAT,
    created: input.createdAt.toISOString(),
    host: input.host,
    kopi_docka_version: input.version,
    kopia_version: input.kopiaVersion,
    config_path: input.configPath,
    password_file: input.passwordFile,
    files: input.carried.map((f, i) => ({ key: f.key, path: f.path, stored: storedName(i, f.path) })),
    env: input.env.map(({ key, variable }) => ({ key, variable })),
    units: input.units,
  };
}

/**
 * Every file of the bundle, in tar order. Pure: the same input gives the same bytes. Secrets are 0600,
 * recover.sh 0700, the rest 0644 (all of it is inside the encryption anyway; the modes matter once
 * unpacked). SHA256SUMS lets recover.sh check the unpacked copy before it puts anything in place.
 */
export function bundleEntries(input: BundleInput): BundleEntry[] {
  const manifest = bundleManifest(input);
  const files: BundleEntry[] = [
    { name: "README.txt", data: text(bundleReadme(manifest)), mode: 0o644 },
    { name: "recover.sh", data: text(recoverScript(manifest)), mode: 0o700 },
    { name: "manifest.json", data: json(manifest), mode: 0o644 },
    { name: "config.toml", data: text(input.configText), mode: 0o600 },
    { name: "secrets/repository.password", data: text(`${input.password}\n`), mode: 0o600 },
    ...input.carried.map((f, i) => ({ name: storedName(i, f.path), data: f.data, mode: 0o600 })),
    { name: "repository-status.json", data: json(input.repositoryStatus ?? null), mode: 0o644 },
    { name: "units.json", data: json(input.units), mode: 0o644 },
    ...input.runs.map((r) => ({ name: `runs/${basename(r.name)}`, data: text(r.text), mode: 0o644 })),
  ];
  if (input.env.length) {
    const lines = input.env.map((e) => `${e.variable}=${shellQuote(e.value)}`);
    files.push({ name: "secrets/env", data: text(`${lines.join("\n")}\n`), mode: 0o600 });
  }
  const sums = files.map((f) => `${sha256(f.data)}  ${f.name}`).join("\n");
  files.push({ name: "SHA256SUMS", data: text(`${sums}\n`), mode: 0o644 });
  return files.map((f) => ({ ...f, name: `${BUNDLE_DIR}/${f.name}` }));
}
