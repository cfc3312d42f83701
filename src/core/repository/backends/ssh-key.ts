import { readFileSync } from "node:fs";
import { AppError } from "../../errors.ts";

const OPENSSH_KEY = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/;
const MAGIC = "openssh-key-v1\0";

/**
 * True when the private key needs a passphrase: OpenSSH's format with a cipher other than `none`, an
 * old PEM key marked `Proc-Type: 4,ENCRYPTED`, or PKCS#8's ENCRYPTED PRIVATE KEY. Reads the key's
 * header only; nothing of it is ever printed.
 */
export function passphraseProtected(text: string): boolean {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: *4, *ENCRYPTED/m.test(text)) return true;
  const body = OPENSSH_KEY.exec(text)?.[1];
  if (!body) return false;
  const bytes = Buffer.from(body.replace(/\s+/g, ""), "base64");
  if (bytes.subarray(0, MAGIC.length).toString("latin1") !== MAGIC) return false;
  // After the magic: the cipher's name, a string with a 4-byte big-endian length.
  if (bytes.length < MAGIC.length + 4) return false;
  const length = bytes.readUInt32BE(MAGIC.length);
  const start = MAGIC.length + 4;
  const cipher = bytes.subarray(start, start + length).toString("latin1");
  return cipher !== "none";
}

/**
 * kopia's SSH client cannot ask for a passphrase (kopia v0.23.1 has no option for one): such a key
 * fails every connect with "this private key is passphrase protected". Refused before kopia runs.
 */
export function refusePassphraseKey(file: string, key = "repository.key_file"): void {
  let text: string;
  try {
    text = readFileSync(file, "latin1");
  } catch {
    return; // resolveSecrets has said what is wrong with the file; kopia will say the rest
  }
  if (passphraseProtected(text)) throw passphraseKeyError(file, key);
}

export function passphraseKeyError(file: string, key = "repository.key_file", cause?: unknown): AppError {
  return new AppError(
    "config",
    `${key} ${file} is protected by a passphrase, which kopia cannot use: use a key without one (mode 0600)`,
    {
      hint: "make one with `ssh-keygen -t ed25519 -N '' -f FILE`, add FILE.pub to the server's authorized_keys and set repository.key_file to FILE",
      cause,
    },
  );
}
