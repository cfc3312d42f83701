import { expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  checkExportRequest,
  checkSetupBundleFile,
  readPrivatePassphrase,
  setupDoneExportFailed,
} from "../../../../src/core/dr/export.ts";
import { writeBytesAtomic } from "../../../../src/core/dr/write.ts";
import { AppError, UsageError } from "../../../../src/core/errors.ts";
import { tempDir } from "../../../helpers/env.ts";

const now = new Date("2026-12-03T00:00:00Z");

test("an export's flags are checked before anything is read: where a passphrase may be shown, its file, the output", () => {
  const dir = tempDir("kd-export-req-");
  const out = join(dir.path, "b.age");
  const refuse = (req: Parameters<typeof checkExportRequest>[0], flag?: string) => {
    try {
      checkExportRequest(req, "h", flag);
    } catch (e) {
      return e;
    }
    throw new Error("not refused");
  };
  // Generated with no terminal on stderr: refused, naming the flag of the command that asked.
  const noTerminal = refuse(
    { output: out, passphraseFile: undefined, now, canShowPassphrase: false },
    "--dr-passphrase-file",
  );
  expect(noTerminal).toBeInstanceOf(UsageError);
  expect((noTerminal as UsageError).hint).toContain("--dr-passphrase-file FILE");
  const generated = checkExportRequest(
    { output: out, passphraseFile: undefined, now, canShowPassphrase: true },
    "h",
  );
  expect(generated.passphrase).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){7}$/);
  expect(generated.file).toBe(out);
  // A passphrase file others can read is refused, as the repository password file is.
  const open = join(dir.path, "pp");
  writeFileSync(open, "a-long-enough-passphrase\n", { mode: 0o644 });
  expect(String(refuse({ output: out, passphraseFile: open, now, canShowPassphrase: false }))).toContain(
    "readable by other users",
  );
  // An existing output is never overwritten.
  writeFileSync(out, "old");
  expect(String(refuse({ output: out, passphraseFile: undefined, now, canShowPassphrase: true }))).toContain(
    `${out} exists`,
  );
  dir.remove();
});

test("the nightly export names the config key of a passphrase file others can read", () => {
  const dir = tempDir("kd-export-key-");
  const open = join(dir.path, "pp");
  writeFileSync(open, "a-long-enough-passphrase\n", { mode: 0o644 });
  expect(() => readPrivatePassphrase(open, "[dr] passphrase_file")).toThrow(
    `[dr] passphrase_file ${open} is readable by other users (mode 644)`,
  );
  dir.remove();
});

test("setup done, bundle failed: the error keeps the cause's exit code and says setup is done", () => {
  const e = setupDoneExportFailed(new AppError("repository", "repository unreachable"));
  expect(e.code).toBe("repository");
  expect(e.message).toBe(
    "setup is done (config, repository, password file), but the DR bundle was not written: repository unreachable",
  );
  expect(e.hint).toContain("kopi-docka dr export");
  const withHint = setupDoneExportFailed(new AppError("repository", "x", { hint: "mount the disk" }));
  expect(withHint.hint).toBe("mount the disk; then run `kopi-docka dr export --output FILE`");
});

test("a bundle never replaces a file that appeared at its name meanwhile; its notes' name is checked up front too", () => {
  const dir = tempDir("kd-export-excl-");
  const out = join(dir.path, "b.age");
  writeFileSync(out, "someone's");
  expect(() => writeBytesAtomic(out, new TextEncoder().encode("bundle"), 0o600)).toThrow(`${out} exists`);
  expect(readFileSync(out, "utf8")).toBe("someone's");
  expect(readdirSync(dir.path)).toEqual(["b.age"]);
  const fresh = join(dir.path, "c.age");
  writeFileSync(`${fresh}.txt`, "notes of another bundle");
  expect(() =>
    checkExportRequest({ output: fresh, passphraseFile: undefined, now, canShowPassphrase: true }, "h"),
  ).toThrow(`${fresh}.txt exists`);
  dir.remove();
});

test("setup refuses --dr-bundle -: its stdout is the report, a bundle there would be lost", () => {
  expect(() => checkSetupBundleFile("-")).toThrow(UsageError);
  expect(() => checkSetupBundleFile("-")).toThrow("setup cannot write the DR bundle to stdout");
  try {
    checkSetupBundleFile("-");
  } catch (e) {
    expect(e instanceof UsageError && e.hint).toContain("kopi-docka dr export --output -");
  }
  expect(() => checkSetupBundleFile("/root/dr.age")).not.toThrow();
  expect(() => checkSetupBundleFile(undefined)).not.toThrow();
});

test("an output in a directory that does not exist is a usage error naming the flag, before anything is written", () => {
  const dir = tempDir("kd-export-dir-");
  const missing = join(dir.path, "nonexistent", "x.age");
  const req = { output: missing, passphraseFile: undefined, now, canShowPassphrase: true };
  const e = (() => {
    try {
      checkExportRequest(req, "h");
    } catch (x) {
      return x;
    }
  })();
  expect(e).toBeInstanceOf(UsageError);
  expect(String(e)).toContain(
    `--output ${missing}: ${join(dir.path, "nonexistent")} is not an existing directory`,
  );
  // setup: its flag, checked before any question (and again before the commit).
  expect(() => checkSetupBundleFile(missing)).toThrow(`--dr-bundle ${missing}:`);
  expect(() => checkExportRequest(req, "h", "--dr-passphrase-file", "--dr-bundle")).toThrow(
    `--dr-bundle ${missing}:`,
  );
  // A file where the directory should be is no directory either.
  writeFileSync(join(dir.path, "plain"), "");
  expect(() => checkSetupBundleFile(join(dir.path, "plain", "b.age"))).toThrow(
    "is not an existing directory",
  );
  // A directory that exists is fine, as is stdout.
  checkSetupBundleFile(join(dir.path, "b.age"));
  expect(checkExportRequest({ ...req, output: "-" }, "h").file).toBeUndefined();
  expect(readdirSync(dir.path)).toEqual(["plain"]);
  dir.remove();
});

test("--output - with --json: both want stdout, a usage error before anything is read", () => {
  const req = { output: "-", passphraseFile: undefined, now, canShowPassphrase: true, json: true };
  expect(() => checkExportRequest(req, "h")).toThrow(
    new UsageError(
      "--output - and --json refuse each other: both would write stdout, and the bundle would be alone there",
    ),
  );
  expect(checkExportRequest({ ...req, json: false }, "h").file).toBeUndefined();
});
