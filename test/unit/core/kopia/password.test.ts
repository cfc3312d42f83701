import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readPassword } from "../../../../src/core/kopia/password.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";
import { tempDir } from "../../../helpers/env.ts";

const dir = tempDir("kd-password-");
afterAll(() => dir.remove());

/** What readPassword throws, and the exit code that becomes. */
function failure(file: string): { message: string; exit: number } {
  try {
    readPassword(file);
  } catch (e) {
    return { message: (e as Error).message, exit: exitCodeFor(e) };
  }
  throw new Error("readPassword did not throw");
}

// README "Exit codes": 2 is a configuration error naming the file; 10 is the repository. A password
// file missing or empty is the config's (like a `*_file` secret, and like the connect's own check).
describe("a password file that cannot be used is a configuration error: exit 2, naming the file", () => {
  test("missing", () => {
    const file = join(dir.path, "gone.password");
    expect(failure(file)).toEqual({ message: `the password file ${file} does not exist`, exit: 2 });
  });

  test("empty", () => {
    const file = join(dir.path, "empty.password");
    writeFileSync(file, "\n", { mode: 0o600 });
    expect(failure(file)).toEqual({ message: `the password file ${file} is empty`, exit: 2 });
  });

  test("a good one is read, trimmed", () => {
    const file = join(dir.path, "good.password");
    writeFileSync(file, "s3cret\n", { mode: 0o600 });
    expect(readPassword(file)).toBe("s3cret");
  });
});
