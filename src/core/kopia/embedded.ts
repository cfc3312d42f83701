import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { AppError } from "../errors.ts";

/** Set by `build.ts --full`: the kopia built into this binary. Absent in the slim binary and from source. */
declare const __KOPIA_EMBEDDED__: { version: string; sha256: string } | undefined;

/** The embedded files' names (build.ts stages them under these names). */
export const EMBEDDED_KOPIA_NAME = "kopia-embedded.bin";
export const EMBEDDED_LICENSE_NAME = "kopia-LICENSE.txt";

export interface EmbeddedKopia {
  version: string;
  sha256: string;
}

/** The kopia inside this binary, or undefined for the slim build. */
export function embeddedKopia(): EmbeddedKopia | undefined {
  return typeof __KOPIA_EMBEDDED__ === "object" ? __KOPIA_EMBEDDED__ : undefined;
}

function embeddedBlob(name: string): Blob | undefined {
  return Bun.embeddedFiles.find((f) => (f as Blob & { name?: string }).name === name);
}

async function sha256Of(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/** Where the embedded kopia goes: one file per version, so an upgrade never swaps a running kopia. */
export function extractedKopiaPath(stateDir: string, version: string): string {
  return join(stateDir, "bin", `kopia-${version}`);
}

/**
 * The embedded kopia as an executable file under `<stateDir>/bin`, written on first use: to a
 * temporary name, checked against the checksum baked in at build time, made 0755, then renamed, so a
 * crash or a concurrent run never leaves half a kopia at the final path. An existing file is checked
 * too (a changed or truncated file is replaced, never run).
 */
export async function extractEmbeddedKopia(
  stateDir: string,
  info: EmbeddedKopia,
  files: { kopia?: Blob; license?: Blob } = {
    kopia: embeddedBlob(EMBEDDED_KOPIA_NAME),
    license: embeddedBlob(EMBEDDED_LICENSE_NAME),
  },
): Promise<string> {
  const target = extractedKopiaPath(stateDir, info.version);
  if (stampMatches(target, info.sha256)) return target;
  if (existsSync(target) && (await sha256Of(target)) === info.sha256) {
    writeStamp(target, info.sha256);
    return target;
  }
  const blob = files.kopia;
  if (!blob)
    throw new AppError("dependency_missing", "this binary says it holds kopia, but the file is not inside");
  const dir = join(stateDir, "bin");
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    await Bun.write(tmp, blob);
    const got = await sha256Of(tmp);
    if (got !== info.sha256) {
      throw new AppError(
        "dependency_missing",
        `the embedded kopia's checksum is wrong (${got}, expected ${info.sha256})`,
        {
          hint: "the kopi-docka binary is damaged: download it again and check it against SHA256SUMS",
        },
      );
    }
    chmodSync(tmp, 0o755);
    renameSync(tmp, target);
    writeStamp(target, info.sha256);
  } finally {
    rmSync(tmp, { force: true });
  }
  if (files.license) await Bun.write(`${target}.LICENSE`, files.license);
  return target;
}

/**
 * What the file looked like when its checksum last matched (size, mtime, inode). Hashing 50 MB on every
 * command costs ~100 ms, so a start whose file still looks exactly like that trusts the earlier check;
 * any write, truncation or replacement changes the stat and the file is hashed (and replaced) again.
 */
const stampOf = (target: string, sha256: string) => {
  const st = statSync(target);
  return JSON.stringify({ sha256, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
};

function stampMatches(target: string, sha256: string): boolean {
  try {
    return readFileSync(`${target}.verified`, "utf8") === stampOf(target, sha256);
  } catch {
    return false;
  }
}

function writeStamp(target: string, sha256: string): void {
  writeFileSync(`${target}.verified`, stampOf(target, sha256), { mode: 0o644 });
}
