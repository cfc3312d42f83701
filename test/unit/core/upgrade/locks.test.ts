import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CONFIG_PATH } from "../../../../src/config/load.ts";
import { ConfigError } from "../../../../src/core/errors.ts";
import { acquireLock } from "../../../../src/core/lock/acquire.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { holdLocks, type LockLookup, locksToTake } from "../../../../src/core/upgrade/locks.ts";
import { tempDir } from "../../../helpers/env.ts";

// `install.sh --config /srv/kd.toml` names that file in the services' ExecStart; it may set another
// `paths.lock_file`. A plain `kopi-docka upgrade` that held only the default config's lock could swap
// the binary under the nightly backup holding the other one.
const DEFAULT_LOCK = "/run/kopi-docka/kopi-docka.lock";

/** Config files and the lock each names; a value of null: this binary rejects the file. */
function lookup(files: Record<string, string | null>): LockLookup {
  return {
    exists: (p) => p in files,
    lockFileOf: (p) => {
      const lock = files[p];
      if (lock === undefined) throw new Error(`strict lookup: ${p} was not expected to be read`);
      if (lock === null) throw new ConfigError(p, [{ key: "backup.scope", message: "unknown key", line: 3 }]);
      return lock;
    },
  };
}

describe("locksToTake", () => {
  const own = { lockFile: "/run/kd/own.lock", configPath: "/etc/kd/own.toml" };

  test("this command's lock and each service's, once, sorted by file", () => {
    const services = [
      { unit: "backup.service", configPath: "/srv/kd.toml" },
      { unit: "freshness.service", configPath: "/srv/kd.toml" },
      { unit: "other.service", configPath: "/etc/kd/own.toml" },
    ];
    const r = locksToTake(own, services, lookup({ "/srv/kd.toml": "/run/a/srv.lock" }));
    expect(r).toEqual({
      locks: [
        { file: "/run/a/srv.lock", users: ["backup.service", "freshness.service"] },
        { file: "/run/kd/own.lock", users: ["this command", "other.service"] },
      ],
      warnings: [],
    });
  });

  test("two configs naming one lock file: it is taken once", () => {
    const r = locksToTake(
      own,
      [{ unit: "backup.service", configPath: "/srv/kd.toml" }],
      lookup({ "/srv/kd.toml": own.lockFile }),
    );
    expect(r.locks).toEqual([{ file: own.lockFile, users: ["this command", "backup.service"] }]);
  });

  test("a service without --config reads the default file, else runs on the default lock", () => {
    const services = [{ unit: "backup.service", configPath: undefined }];
    const withFile = locksToTake(own, services, lookup({ [DEFAULT_CONFIG_PATH]: "/run/d.lock" }));
    expect(withFile.locks.map((l) => l.file)).toEqual(["/run/d.lock", own.lockFile]);
    const none = locksToTake(own, services, lookup({}));
    expect(none.locks.map((l) => l.file)).toEqual([own.lockFile, DEFAULT_LOCK]);
  });

  test("a config this binary rejects: the default lock, with a warning naming the file", () => {
    const services = [{ unit: "backup.service", configPath: "/srv/kd.toml" }];
    const r = locksToTake(own, services, lookup({ "/srv/kd.toml": null }));
    expect(r.locks.map((l) => l.file)).toEqual([own.lockFile, DEFAULT_LOCK]);
    const issue = "/srv/kd.toml:3: backup.scope: unknown key";
    expect(r.warnings).toEqual([
      `this binary rejects /srv/kd.toml (${issue}); using the lock ${DEFAULT_LOCK} for it`,
    ]);
  });

  test("a service naming a missing config takes no lock (that run fails before it locks)", () => {
    const r = locksToTake(own, [{ unit: "backup.service", configPath: "/gone.toml" }], lookup({}));
    expect(r.locks).toEqual([{ file: own.lockFile, users: ["this command"] }]);
  });
});

describe("holdLocks", () => {
  const dir = tempDir("kd-upgrade-locks-");
  afterAll(() => dir.remove());
  const a = { file: join(dir.path, "a.lock"), users: ["this command"] };
  const b = { file: join(dir.path, "b.lock"), users: ["kopi-docka-backup.service"] };

  test("takes every lock; release frees them all", async () => {
    const held = await holdLocks([a, b], "upgrade", silentLogger());
    expect(existsSync(a.file) && existsSync(b.file)).toBe(true);
    held.release();
    held.release(); // idempotent
    expect(existsSync(a.file) || existsSync(b.file)).toBe(false);
  });

  test("one held by a live run: 'locked', naming it and whose; those taken are released", async () => {
    const backup = await acquireLock(b.file, { runId: "nightly", command: "backup" });
    try {
      const p = holdLocks([a, b], "upgrade", silentLogger());
      await expect(p).rejects.toMatchObject({ code: "locked" });
      await expect(p).rejects.toThrow(`holds the lock ${b.file}`);
      await expect(p).rejects.toThrow("(the lock of: kopi-docka-backup.service)");
      expect(existsSync(a.file)).toBe(false);
      expect(existsSync(b.file)).toBe(true); // the backup's, untouched
    } finally {
      backup.release();
    }
  });
});
