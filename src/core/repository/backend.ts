import type { RepositoryConfig } from "../../config/schema.ts";
import type { Runner } from "../process/runner.ts";

/** A secret kopia needs for one backend, and how it reaches kopia (never in argv). */
export interface SecretSlot {
  /** Config key stem: the secret comes from `<key>_file` or from the variable `<key>_env` names. */
  key: string;
  /** kopia reads it from this environment variable (cli/storage_*.go `.Envar`). */
  env: string;
  /** false: optional (used when set). */
  required: boolean;
}

/** kopia's saved connection, read from its own config file (no network needed). */
export interface SavedConnection {
  storage?: { type: string; config: Record<string, unknown> };
  apiServer?: { url?: string; serverCertFingerprint?: string };
  hostname?: string;
  username?: string;
}

/**
 * What kopi-docka knows about one kopia backend: the whole contract. `storageArgs` with the secret
 * environment is also how to reconnect from nothing (an empty state dir): connect needs nothing else.
 */
export interface Backend<C extends RepositoryConfig = RepositoryConfig> {
  /**
   * A location named indirectly (a tailnet peer): looks it up and answers the config with the address
   * filled in, before anything else runs. A peer that is unknown or down throws (exit 10).
   */
  resolve?(repo: C, io: ProbeIo): Promise<C>;
  /** `repository create|connect <argv>`: the provider and its flags. Never a secret. */
  storageArgs(repo: C): string[];
  /** The secrets it needs and the env variable that carries each. */
  secrets(repo: C): SecretSlot[];
  /** Non-secret environment kopia needs (e.g. RCLONE_CONFIG). */
  env?(repo: C): Record<string, string>;
  /** The server kopia talks to, for the connection test (none: nothing to reach, e.g. a local path). */
  endpoint?(repo: C, env: Record<string, string | undefined>): { host: string; port: number } | undefined;
  /** Programs besides kopia it runs (checked by `doctor` and before connecting). */
  tools(repo: C): string[];
  /** Where the repository is, for people: never a secret. */
  describe(repo: C): string;
  /** True when kopia's saved connection points at this configured location. */
  matches(saved: SavedConnection, repo: C): boolean;
  /**
   * What differs (a noun: "server certificate fingerprint"), for people, when the saved connection is
   * to this very location but `matches` is false: "was X, now X" would say nothing. Never a secret.
   */
  differs?(saved: SavedConnection, repo: C): string | undefined;
  /**
   * A look at the location before kopia connects, where that is possible without kopia (a local
   * path). Backends without one let kopia's connect answer.
   */
  probe?(repo: C): "repository" | "missing" | "empty" | "foreign";
  /**
   * Looks at a remote location before kopia does, where kopia's own "found existing data" check is
   * blind (sftp, webdav and rclone list only files named like kopia's blobs) and its connect attempt
   * already writes. "unknown": no way to look; kopia's answers are all there are.
   */
  probeRemote?(repo: C, io: ProbeIo): Promise<"repository" | "empty" | "foreign" | "unknown">;
  /** Before `repository create` on an empty location: make what kopia expects (a WebDAV collection). */
  prepareCreate?(repo: C, io: ProbeIo): Promise<void>;
  /** false: kopia cannot create one here (a repository server): `repo init` only connects. */
  canCreate: boolean;
}

/** The Debian package that brings a backend's tool (sftp and ssh are OpenSSH's client). */
export function toolPackage(tool: string): string {
  return tool === "sftp" || tool === "ssh" ? "openssh-client" : tool;
}

/** What a remote probe may use: the one runner, and the resolved secrets' env. */
export interface ProbeIo {
  runner: Runner;
  env: Record<string, string>;
}

/**
 * What a listing of a remote location says. `.shards` is kopia's own: its connect attempt writes it
 * into any directory it looks at, so it alone does not make a location foreign.
 */
export function judgeListing(names: string[]): "repository" | "empty" | "foreign" {
  const entries = names.map((n) => n.replace(/\/$/, "").split("/").pop() ?? n);
  if (entries.includes("kopia.repository.f") || entries.includes("kopia.repository")) return "repository";
  return entries.some((n) => n && n !== "." && n !== ".." && n !== ".shards") ? "foreign" : "empty";
}

/** Throttle flags kopia keeps in the storage connection; 0 is no limit. */
export function throttleArgs(repo: { max_upload_speed: number; max_download_speed: number }): string[] {
  return [
    ...(repo.max_upload_speed ? ["--max-upload-speed", String(repo.max_upload_speed)] : []),
    ...(repo.max_download_speed ? ["--max-download-speed", String(repo.max_download_speed)] : []),
  ];
}

/** Equal storage type, equal fields and equal throttle: the saved connection is the configured one. */
export function storageMatches(
  saved: SavedConnection,
  type: string,
  fields: Record<string, unknown>,
  repo: { max_upload_speed: number; max_download_speed: number },
): boolean {
  if (saved.storage?.type !== type) return false;
  const c = saved.storage.config;
  const want: Record<string, unknown> = {
    ...fields,
    maxUploadSpeedBytesPerSecond: repo.max_upload_speed || undefined,
    maxDownloadSpeedBytesPerSecond: repo.max_download_speed || undefined,
  };
  return Object.entries(want).every(([k, v]) => (c[k] ?? undefined) === v || (!c[k] && !v));
}
