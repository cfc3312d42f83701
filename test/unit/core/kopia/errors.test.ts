import { expect, test } from "bun:test";
import { AppError, ProcessError } from "../../../../src/core/errors.ts";
import { classifyKopiaError } from "../../../../src/core/kopia/errors.ts";

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
