import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeRunRecord } from "../../../src/core/backup/run-records.ts";
import { nodeFs, type SyncFs } from "../../../src/core/durable.ts";
import { ensurePasswordFile } from "../../../src/core/kopia/password.ts";
import { tempDir } from "../../helpers/env.ts";

// Issue 14: the password file (before `repository create`) and run records (before the rename) were
// never fsync'd. The real fs does the work; the seam records which path each call concerned, in order.
const dir = tempDir("kd-durable-");
afterAll(() => dir.remove());

function recordingFs() {
  const calls: string[] = [];
  const paths = new Map<number, string>();
  const fs: SyncFs = {
    openSync: (p, flags, mode) => {
      const fd = nodeFs.openSync(p, flags, mode);
      paths.set(fd, p);
      calls.push(`open ${p}`);
      return fd;
    },
    writeSync: (fd, text) => {
      calls.push(`write ${paths.get(fd)}`);
      return nodeFs.writeSync(fd, text);
    },
    fsyncSync: (fd) => {
      calls.push(`fsync ${paths.get(fd)}`);
      nodeFs.fsyncSync(fd);
    },
    closeSync: (fd) => {
      calls.push(`close ${paths.get(fd)}`);
      nodeFs.closeSync(fd);
    },
    renameSync: (a, b) => {
      calls.push(`rename ${a} ${b}`);
      nodeFs.renameSync(a, b);
    },
  };
  return { fs, calls };
}

describe("durable writes", () => {
  test("a run record: data fsync'd before the rename, the directory fsync'd after", () => {
    const { fs, calls } = recordingFs();
    const runs = join(dir.path, "runs");
    const file = writeRunRecord(runs, { runId: "R1", units: [] } as never, fs);
    expect(calls).toEqual([
      `open ${file}.tmp`,
      `write ${file}.tmp`,
      `fsync ${file}.tmp`,
      `close ${file}.tmp`,
      `rename ${file}.tmp ${file}`,
      `open ${runs}`,
      `fsync ${runs}`,
      `close ${runs}`,
    ]);
    expect(JSON.parse(readFileSync(file, "utf8")).runId).toBe("R1");
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test("a new password file and its directory are fsync'd before it is used", () => {
    const { fs, calls } = recordingFs();
    const file = join(dir.path, "secret", "repository.password");
    expect(ensurePasswordFile(file, fs)).toBe(true);
    const parent = join(dir.path, "secret");
    expect(calls).toEqual([
      `open ${file}`,
      `write ${file}`,
      `fsync ${file}`,
      `close ${file}`,
      `open ${parent}`,
      `fsync ${parent}`,
      `close ${parent}`,
    ]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(ensurePasswordFile(file, fs)).toBe(false); // never replaced
  });
});
