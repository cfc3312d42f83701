import { expect, test } from "bun:test";
import { AppError, ProcessError } from "../../../../src/core/errors.ts";
import { classifyKopiaError, isNameTooLongForTemp } from "../../../../src/core/kopia/errors.ts";

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

// kopia's atomic write adds up to 10 digits to a name: one over 245 bytes fails only there.
test("a name too long for kopia's atomic temp file is told apart from any other failure", () => {
  const temp =
    "error restoring: restore error: copy file: error creating file: cannot create temp file: open /v/LLLL3568575081: file name too long";
  expect(isNameTooLongForTemp(kopiaFailed(temp))).toBe(true);
  expect(isNameTooLongForTemp(kopiaFailed("error restoring: open /v/x: no space left on device"))).toBe(
    false,
  );
  expect(isNameTooLongForTemp(new Error(temp))).toBe(false);
});
