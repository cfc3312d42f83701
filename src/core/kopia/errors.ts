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
 * Why kopia could not restore over existing data where a restore into an empty directory succeeds,
 * or undefined. Its atomic write adds up to 10 digits to a file's name for the temp file, so a name
 * over 245 bytes fails there; and it will not put a symlink where a file or directory is now.
 */
export function inPlaceOnlyFailure(e: unknown): string | undefined {
  const text = e instanceof ProcessError ? e.stderrTail : "";
  if (/cannot create temp file: [^\n]*file name too long/.test(text))
    return "a file name too long for its temp file";
  if (/unable to create symlink, [^\n]* already exists and is not a symlink/.test(text))
    return "a symlink where a file or directory is now";
  return undefined;
}
