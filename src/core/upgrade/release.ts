import { readFileSync } from "node:fs";
import { errorMessage } from "../caught.ts";
import { AppError, UsageError } from "../errors.ts";

/**
 * The project's release location: a placeholder until releases are published (install.sh holds the
 * same constant). KOPI_DOCKA_RELEASE_URL or --release-url point elsewhere; a release lives under
 * `<url>/v<version>/` (or `<url>/latest/`) with SHA256SUMS beside its files.
 */
export const DEFAULT_RELEASE_URL = "https://releases.kopi-docka.invalid";

/**
 * Where releases are fetched from: `--release-url`, else KOPI_DOCKA_RELEASE_URL, else the project's.
 * Anything but an http(s) URL is a usage error naming where it came from, before anything is fetched.
 */
export function releaseUrl(flag: string | undefined, env = process.env.KOPI_DOCKA_RELEASE_URL): string {
  const [url, from] = flag
    ? [flag, "--release-url"]
    : env
      ? [env, "KOPI_DOCKA_RELEASE_URL"]
      : [DEFAULT_RELEASE_URL, ""];
  const parsed = URL.parse(url);
  if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:"))
    throw new UsageError(
      `${from || "the release URL"} "${url}" is not an http(s) URL`,
      "e.g. --release-url https://releases.example.org (a release lives under <url>/v<version>/)",
    );
  return url;
}

/** x64, x64-baseline (no AVX2: Bun's default x64 runtime needs it) or arm64, as in the artifact names. */
export function detectVariant(arch = process.arch, cpuinfo = readCpuinfo()): string {
  if (arch === "arm64") return "arm64";
  if (arch !== "x64") throw new AppError("usage", `no release is built for CPU ${arch}`);
  return /\bavx2\b/.test(cpuinfo) ? "x64" : "x64-baseline";
}

function readCpuinfo(): string {
  try {
    return readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return "";
  }
}

export function artifactName(variant: string, full: boolean): string {
  return `kopi-docka-linux-${variant}${full ? "-full" : ""}`;
}

/** `v0.2.0` for "0.2.0" or "v0.2.0"; "latest" stays. */
export function releaseDir(version: string): string {
  return version === "latest" || version.startsWith("v") ? version : `v${version}`;
}

/** The sha256 SHA256SUMS lists for `name`, or an error that refuses the file. */
export function expectedSum(sums: string, name: string, where: string): string {
  for (const line of sums.split("\n")) {
    const m = /^([0-9a-f]{64}) [ *]?(.+)$/.exec(line.trim());
    if (m?.[1] && m[2] === name) return m[1];
  }
  throw new AppError("check_failed", `${name} is not listed in ${where}: refusing it`);
}

export function sha256Hex(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

/** Refuses bytes whose checksum differs from SHA256SUMS: nothing is written before this passed. */
export function checkSum(bytes: Uint8Array, want: string, name: string): void {
  const have = sha256Hex(bytes);
  if (have !== want) {
    throw new AppError(
      "check_failed",
      `checksum mismatch for ${name}: SHA256SUMS says ${want}, the file is ${have}`,
      {
        hint: "nothing was changed; download the release again, or check where it comes from",
      },
    );
  }
}

async function get(url: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(300_000) });
  } catch (e) {
    throw new AppError("process_failed", `could not download ${url}: ${errorMessage(e)}`);
  }
  if (!res.ok) throw new AppError("process_failed", `could not download ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Downloads one artifact of a release and checks it against that release's SHA256SUMS. */
export async function downloadVerified(baseUrl: string, version: string, name: string): Promise<Uint8Array> {
  const dir = `${baseUrl.replace(/\/+$/, "")}/${releaseDir(version)}`;
  const sums = new TextDecoder().decode(await get(`${dir}/SHA256SUMS`));
  const want = expectedSum(sums, name, `${dir}/SHA256SUMS`);
  const bytes = await get(`${dir}/${name}`);
  checkSum(bytes, want, name);
  return bytes;
}
