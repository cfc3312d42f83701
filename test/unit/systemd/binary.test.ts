import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../../../src/core/errors.ts";
import { binaryProblem, resolveBinary } from "../../../src/systemd/binary.ts";
import { tempDir } from "../../helpers/env.ts";

const dir = tempDir("kd-binary-");
afterAll(() => dir.remove());
const exe = join(dir.path, "kopi-docka");
writeFileSync(exe, "#!/bin/sh\n");
chmodSync(exe, 0o755);
const plain = join(dir.path, "plain");
writeFileSync(plain, "");
chmodSync(plain, 0o644);

const compiled = { standalone: true, execPath: exe };
const fromSource = { standalone: false, execPath: "/usr/local/bin/bun" };

describe("the ExecStart binary", () => {
  test("defaults to the running compiled binary; --binary overrides it", () => {
    expect(resolveBinary(undefined, compiled)).toBe(exe);
    expect(resolveBinary(exe, fromSource)).toBe(exe);
  });

  test("prefers the name on PATH that links to the running binary (upgrades move the link)", () => {
    const bin = join(dir.path, "bin");
    mkdirSync(bin);
    symlinkSync(exe, join(bin, "kopi-docka"));
    const other = join(dir.path, "other");
    mkdirSync(other);
    writeFileSync(join(other, "kopi-docka"), "");
    const path = [other, "relative/dir", bin].join(":");
    expect(resolveBinary(undefined, { ...compiled, path })).toBe(join(bin, "kopi-docka"));
    expect(resolveBinary(undefined, { ...compiled, path: other })).toBe(exe);
  });

  test("never bun itself: from source, --binary is required", () => {
    expect(() => resolveBinary(undefined, fromSource)).toThrow(UsageError);
    try {
      resolveBinary(undefined, fromSource);
    } catch (e) {
      expect((e as UsageError).hint).toContain("--binary");
    }
  });

  test("a missing, non-executable or directory path is refused, naming --binary", () => {
    expect(() => resolveBinary(join(dir.path, "nope"), compiled)).toThrow("does not exist");
    expect(() => resolveBinary(dir.path, compiled)).toThrow("not a regular file");
    if (process.getuid?.() !== 0) expect(() => resolveBinary(plain, compiled)).toThrow("not executable");
    // root passes access(X_OK) when any x bit is set; a file with none is refused for root too.
    expect(() => resolveBinary(plain, compiled)).toThrow("--binary");
  });
});

describe.skipIf(process.getuid?.() !== 0)("a binary root runs every night, as root sets it up", () => {
  test("only a file and directories no other user can change: owner, mode, sticky directories", () => {
    const d = tempDir("kd-binary-owner-");
    const sub = join(d.path, "bin");
    mkdirSync(sub, { mode: 0o755 });
    const file = join(sub, "kopi-docka");
    writeFileSync(file, "#!/bin/sh\n", { mode: 0o755 });
    expect(binaryProblem(file, 0)).toBeUndefined();
    chmodSync(file, 0o775);
    expect(binaryProblem(file, 0)).toBe("writable by users other than root");
    chmodSync(file, 0o755);
    chownSync(file, 1000, 1000); // ~/Downloads/kopi-docka of a user
    expect(binaryProblem(file, 0)).toContain("owned by uid 1000");
    chownSync(file, 0, 0);
    chmodSync(sub, 0o777); // anyone may rename it away and put another file there
    expect(binaryProblem(file, 0)).toContain(`its directory ${sub} can be changed by users other than root`);
    chmodSync(sub, 0o1777); // sticky, as /tmp: others cannot replace root's file
    expect(binaryProblem(file, 0)).toBeUndefined();
    chmodSync(sub, 0o755);
    expect(() => resolveBinary(file, { standalone: false, execPath: "/usr/local/bin/bun" })).not.toThrow();
    d.remove();
  });
});
