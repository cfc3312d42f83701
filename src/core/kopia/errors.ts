import { AppError, ProcessError } from "../errors.ts";

/**
 * kopia exits 0 or 1 only; the cause is in its stderr text (kopia.md §7). Turns the known messages into
 * typed errors with a next step, and leaves anything else as the original ProcessError.
 */
export function classifyKopiaError(e: unknown): unknown {
  if (!(e instanceof ProcessError)) return e;
  const text = e.stderrTail;
  if (/invalid repository password/.test(text)) {
    return new AppError("repository_auth", "the repository password is wrong", {
      hint: "check repository.password_file: it must hold the password the repository was created with",
      cause: e,
    });
  }
  const storage = /cannot access storage path: (?:stat )?([^:\n]+)/.exec(text);
  if (storage || /cannot open storage/.test(text)) {
    // A connected repository whose storage vanished (an unmounted disk or share): never "first use".
    return new AppError(
      "repository",
      `the repository storage cannot be reached${storage ? `: ${storage[1]}` : ""}`,
      {
        hint: "is its disk or share mounted? `kopi-docka doctor` checks it",
        cause: e,
      },
    );
  }
  if (/repository not initialized in the provided storage/.test(text)) {
    return new AppError("repository", "no kopia repository exists at the configured location", {
      hint: "run `kopi-docka backup` once to create it, or fix [repository] in the config",
      cause: e,
    });
  }
  if (/repository is not connected|not connected to a repository/.test(text)) {
    return new AppError("repository", "kopi-docka is not connected to its repository", {
      hint: "run `kopi-docka backup` (it connects on its own) or `kopi-docka doctor`",
      cause: e,
    });
  }
  return e;
}

/**
 * kopia could not create its temp file for an atomic write because the name grew too long: it adds
 * up to 10 digits to the file's own name, so a name over 245 bytes cannot be written that way.
 */
export function isNameTooLongForTemp(e: unknown): boolean {
  const text = e instanceof ProcessError ? e.stderrTail : "";
  return /cannot create temp file: .*file name too long/.test(text);
}
