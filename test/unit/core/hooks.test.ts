import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkHookFile } from "../../../src/core/hooks.ts";
import { tempDir } from "../../helpers/env.ts";

// Issue 14: the hook file was checked, its directories were not: whoever can write one of them can
// replace the hook that kopi-docka runs as root.
const dir = tempDir("kd-hooks-");
afterAll(() => dir.remove());

function hookIn(sub: string): string {
  const d = join(dir.path, sub);
  mkdirSync(d, { recursive: true, mode: 0o755 });
  const file = join(d, "pre-backup");
  writeFileSync(file, "#!/bin/sh\n", { mode: 0o755 });
  return file;
}

describe("hook directories", () => {
  test("a hook in root-owned directories is accepted (a sticky /tmp on the way is fine)", () => {
    expect(() => checkHookFile(hookIn("ok"))).not.toThrow();
  });

  test("a group- or world-writable directory on the way is refused, naming it", () => {
    const file = hookIn("open/inner");
    chmodSync(join(dir.path, "open"), 0o777);
    expect(() => checkHookFile(file)).toThrow(
      `its directory ${join(dir.path, "open")} is writable by group or others`,
    );
    chmodSync(join(dir.path, "open"), 0o775);
    expect(() => checkHookFile(file)).toThrow("is writable by group or others");
  });

  test("a symlinked directory is judged where it really is", () => {
    hookIn("real-open");
    chmodSync(join(dir.path, "real-open"), 0o757);
    symlinkSync(join(dir.path, "real-open"), join(dir.path, "link"));
    expect(() => checkHookFile(join(dir.path, "link", "pre-backup"))).toThrow(
      `its directory ${join(dir.path, "real-open")} is writable by group or others`,
    );
  });

  test.if(process.getuid?.() === 0)("a directory owned by another user is refused", () => {
    const file = hookIn("theirs");
    chownSync(join(dir.path, "theirs"), 65534, 65534);
    expect(() => checkHookFile(file)).toThrow(
      `its directory ${join(dir.path, "theirs")} is owned by another user`,
    );
  });
});
