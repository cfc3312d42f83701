import { randomInt } from "node:crypto";
import { Decrypter, Encrypter } from "age-encryption";
import { errorMessage } from "../caught.ts";
import { AppError } from "../errors.ts";

/**
 * The bundle's encryption: age with a passphrase (scrypt, then ChaCha20-Poly1305 in authenticated
 * chunks). Chosen over `openssl enc` because it is authenticated: a wrong passphrase, a flipped bit or
 * a truncated file is an error, never silently wrong plaintext, and a person opens it with Debian's
 * `age -d` alone. The library is the age authors' own TypeScript implementation.
 */

/** Letters and digits that cannot be misread when copied by hand (no 0/o, 1/l/i). */
const ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

/** A new passphrase: 8 groups of 5 (about 198 bits), easy to read out and type. */
export function generatePassphrase(): string {
  const group = () => Array.from({ length: 5 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
  return Array.from({ length: 8 }, group).join("-");
}

/** `workFactor`: scrypt's log2(N); age's default (18, about a second) unless a test asks for less. */
export async function encryptBundle(
  plain: Uint8Array,
  passphrase: string,
  workFactor = 18,
): Promise<Uint8Array> {
  const e = new Encrypter();
  e.setScryptWorkFactor(workFactor);
  e.setPassphrase(passphrase);
  return await e.encrypt(plain);
}

/** Opens a bundle; a wrong passphrase or a damaged file is a typed error that says which it may be. */
export async function decryptBundle(cipher: Uint8Array, passphrase: string): Promise<Uint8Array> {
  if (!new TextDecoder().decode(cipher.subarray(0, 40)).startsWith("age-encryption.org/v1")) {
    throw new AppError("check_failed", "this file is not an age-encrypted kopi-docka bundle", {
      hint: "pass the .age file `dr export` wrote (not its .txt)",
    });
  }
  const d = new Decrypter();
  d.addPassphrase(passphrase);
  try {
    return await d.decrypt(cipher);
  } catch (e) {
    const why = errorMessage(e);
    throw new AppError(
      "check_failed",
      `the bundle could not be decrypted: wrong passphrase or damaged file (${why})`,
      {
        hint: "check the passphrase (it was shown once at export); a damaged file cannot be repaired",
      },
    );
  }
}
