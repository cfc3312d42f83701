import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  commitBinary,
  rollbackBinary,
  type SwapFs,
  stageBinary,
  swapFs,
} from "../../../../src/core/upgrade/replace.ts";
import { tempDir } from "../../../helpers/env.ts";

// A rename of data still in the page cache can leave a zero-length binary after a power cut (XFS,
// ext4 with noauto_da_alloc): both services would fail to start, and nothing would alert. The real fs
// does the work; the seam records which path each call concerned, in order.
const dir = tempDir("kd-replace-");
afterAll(() => dir.remove());

function recordingFs() {
  const calls: string[] = [];
  const paths = new Map<number, string>();
  const fs: SwapFs = {
    ...swapFs,
    openSync: (p, flags, mode) => {
      const fd = swapFs.openSync(p, flags, mode);
      paths.set(fd, p);
      calls.push(`open ${p}`);
      return fd;
    },
    writeBytes: (fd, bytes) => {
      calls.push(`write ${paths.get(fd)}`);
      swapFs.writeBytes(fd, bytes);
    },
    fsyncSync: (fd) => {
      calls.push(`fsync ${paths.get(fd)}`);
      swapFs.fsyncSync(fd);
    },
    closeSync: (fd) => {
      calls.push(`close ${paths.get(fd)}`);
      swapFs.closeSync(fd);
    },
    renameSync: (a, b) => {
      calls.push(`rename ${a} ${b}`);
      swapFs.renameSync(a, b);
    },
  };
  return { fs, calls };
}

describe("the binary swap survives a power cut", () => {
  const target = join(dir.path, "kopi-docka");

  test("the staged binary is fsync'd before its rename, the directory after the renames", () => {
    writeFileSync(target, "old binary", { mode: 0o755 });
    const { fs, calls } = recordingFs();
    const staged = stageBinary(target, new TextEncoder().encode("new binary"), fs);
    commitBinary(staged, target, fs);
    const keep = `${target}.previous.tmp-${process.pid}`;
    expect(calls).toEqual([
      `open ${staged}`,
      `write ${staged}`,
      `fsync ${staged}`,
      `close ${staged}`,
      `rename ${keep} ${target}.previous`,
      `rename ${staged} ${target}`,
      `open ${dir.path}`,
      `fsync ${dir.path}`,
      `close ${dir.path}`,
    ]);
    expect(readFileSync(target, "utf8")).toBe("new binary");
    expect(readFileSync(`${target}.previous`, "utf8")).toBe("old binary");
    expect(statSync(target).mode & 0o777).toBe(0o755);
  });

  test("a rollback's renames are made durable too", () => {
    const { fs, calls } = recordingFs();
    rollbackBinary(target, fs);
    expect(calls.slice(-3)).toEqual([`open ${dir.path}`, `fsync ${dir.path}`, `close ${dir.path}`]);
    expect(readFileSync(target, "utf8")).toBe("old binary");
    expect(readFileSync(`${target}.previous`, "utf8")).toBe("new binary");
  });

  test("a binary larger than one write arrives whole", () => {
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    const staged = stageBinary(join(dir.path, "big"), big);
    expect(Buffer.from(readFileSync(staged)).equals(Buffer.from(big))).toBe(true);
  });
});
