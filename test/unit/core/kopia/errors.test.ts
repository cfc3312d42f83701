import { expect, test } from "bun:test";
import { AppError, ProcessError } from "../../../../src/core/errors.ts";
import { classifyKopiaError, inPlaceOnlyFailure } from "../../../../src/core/kopia/errors.ts";

const kopiaFailed = (stderrTail: string) =>
  new ProcessError({ argv: ["kopia", "repository", "status"], exitCode: 1, signal: null, stderrTail });

test("storage that vanished (an unmounted disk) is a repository error (exit 10), never 'not connected'", () => {
  const e = classifyKopiaError(
    kopiaFailed(
      "open repository: unable to open repository: cannot open storage: cannot access storage path: stat /mnt/backup/repo: no such file or directory",
    ),
  );
  expect(e).toBeInstanceOf(AppError);
  expect((e as AppError).code).toBe("repository");
  expect((e as AppError).message).toBe("the repository storage cannot be reached: /mnt/backup/repo");
});

test("a wrong password stays repository_auth", () => {
  expect((classifyKopiaError(kopiaFailed("invalid repository password")) as AppError).code).toBe(
    "repository_auth",
  );
});

// Over existing data kopia's atomic write adds up to 10 digits to a name, and it puts no symlink where a
// file is: those two are told apart from any other failure (a restore beside it would meet the rest too).
test("what fails only over existing data is told apart from any other failure", () => {
  const temp =
    "error restoring: restore error: copy file: error creating file: cannot create temp file: open /v/LLLL3568575081: file name too long";
  const link =
    'error restoring: restore error: create symlink: unable to create symlink, "/v/ok" already exists and is not a symlink';
  expect(inPlaceOnlyFailure(kopiaFailed(temp))).toBe("a file name too long for its temp file");
  expect(inPlaceOnlyFailure(kopiaFailed(link))).toBe("a symlink where a file or directory is now");
  expect(
    inPlaceOnlyFailure(kopiaFailed("error restoring: open /v/x: no space left on device")),
  ).toBeUndefined();
  expect(inPlaceOnlyFailure(new Error(temp))).toBeUndefined();
});
