import { afterAll, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../../../src/config/load.ts";
import { AppError, ProcessError } from "../../../../src/core/errors.ts";
import { classifyKopiaError } from "../../../../src/core/kopia/errors.ts";
import { backendOf } from "../../../../src/core/repository/backends/index.ts";
import { passphraseProtected } from "../../../../src/core/repository/backends/ssh-key.ts";
import { classifyStorageError } from "../../../../src/core/repository/problems.ts";
import { resolveSecrets } from "../../../../src/core/repository/secrets.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";
import { tempDir } from "../../../helpers/env.ts";

const dir = tempDir("kdt-sshkey-");
afterAll(() => dir.remove());

/** A throwaway test key made by ssh-keygen: `format` is -m's, "" the passphrase for none. */
function keygen(name: string, type: string, passphrase: string, format?: string): string {
  const file = join(dir.path, name);
  const r = Bun.spawnSync([
    ...["ssh-keygen", "-q", "-t", type, "-N", passphrase, "-C", "kdt", "-f", file],
    ...(format ? ["-m", format] : []),
  ]);
  expect(r.exitCode).toBe(0);
  chmodSync(file, 0o600);
  return file;
}

const text = (file: string) => readFileSync(file, "latin1");

test("passphrase keys told apart from plain ones: OpenSSH's format, old PEM, PKCS#8", () => {
  expect(passphraseProtected(text(keygen("ed-plain", "ed25519", "")))).toBe(false);
  expect(passphraseProtected(text(keygen("ed-locked", "ed25519", "secret-phrase")))).toBe(true);
  expect(passphraseProtected(text(keygen("pem-plain", "ecdsa", "", "PEM")))).toBe(false);
  expect(passphraseProtected(text(keygen("pem-locked", "ecdsa", "secret-phrase", "PEM")))).toBe(true);
  expect(passphraseProtected(text(keygen("p8-plain", "ecdsa", "", "PKCS8")))).toBe(false);
  expect(passphraseProtected(text(keygen("p8-locked", "ecdsa", "secret-phrase", "PKCS8")))).toBe(true);
  expect(passphraseProtected("not a key at all\n")).toBe(false);
});

const known = join(dir.path, "known_hosts");
writeFileSync(known, "", { mode: 0o600 });
const sftpWith = (keyFile: string, backend = "sftp") =>
  parseConfigText(
    `[repository]\nbackend = "${backend}"\n${backend === "sftp" ? 'host = "h"' : 'peer = "nas"'}\nuser = "u"\npath = "/r"\nkey_file = "${keyFile}"\nknown_hosts_file = "${known}"\n`,
    "x",
  ).repository;

test("an sftp (or tailscale) key with a passphrase: exit 2 before kopia runs, naming the file, never its contents", () => {
  const locked = keygen("locked", "ed25519", "secret-phrase");
  for (const backend of ["sftp", "tailscale"]) {
    const repo = sftpWith(locked, backend);
    const e = (() => {
      try {
        resolveSecrets(repo, backendOf(repo));
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(AppError);
    expect(exitCodeFor(e)).toBe(2);
    const { message, hint } = e as AppError;
    expect(message).toBe(
      `repository.key_file ${locked} is protected by a passphrase, which kopia cannot use: use a key without one (mode 0600)`,
    );
    for (const line of text(locked)
      .split("\n")
      .filter((l) => l.length > 20))
      expect(`${message}${hint}`).not.toContain(line);
  }
  const plain = sftpWith(keygen("plain", "ed25519", ""));
  expect(resolveSecrets(plain, backendOf(plain)).env).toEqual({});
});

test("kopia's own 'passphrase protected' (a key that got one after the check): the same exit 2, not kopia's words", () => {
  const repo = sftpWith(join(dir.path, "plain"));
  const failed = classifyKopiaError(
    new ProcessError({
      argv: ["kopia", "repository", "connect", "sftp"],
      exitCode: 1,
      signal: null,
      stderrTail:
        "unable to get repository storage: unable to create sftp storage: unable to parse private key: ssh: this private key is passphrase protected",
    }),
  );
  const e = classifyStorageError(failed, repo, "sftp://u@h:22/r");
  expect(exitCodeFor(e)).toBe(2);
  expect((e as AppError).message).toContain("is protected by a passphrase, which kopia cannot use");
});
