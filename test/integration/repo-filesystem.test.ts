import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDockerObjects } from "../helpers/cleanup.ts";
import { startContainer, uniqueName } from "../helpers/env.ts";
import { whileBackupHolds, writeSlowHook } from "../helpers/held-backup.ts";
import { repositorySuite, type SuiteHandle } from "./repo-suite.ts";

let disk = "";

/**
 * A host of its own connected to the suite's repository (`repo connect`), a container to back up, and
 * the same config with the repository path mistyped (`typo`): one state, two config files.
 */
async function typoHost(h: SuiteHandle, name: string, extra = "") {
  const good = join(disk, "repo");
  const config = h.writeConfig(name, `backend = "filesystem"\npath = "${good}"`);
  writeFileSync(config, `${readFileSync(config, "utf8")}${extra}`);
  const typo = join(h.dir, name, "typo.toml");
  writeFileSync(typo, readFileSync(config, "utf8").replace(`path = "${good}"`, `path = "${good}po"`));
  const connect = await h.cli(config, "repo", "connect");
  expect({ exit: connect.exitCode, stderr: connect.stderr }).toMatchObject({ exit: 0 });
  const kopiaConfig = join(h.dir, name, "state", "kopia", "repository.config");
  return { config, typo, typoPath: `${good}po`, kopiaConfig, saved: readFileSync(kopiaConfig, "utf8") };
}

/** This host is still connected to the suite's repository, and kopia's config is the one it had. */
async function stillConnected(h: SuiteHandle, t: Awaited<ReturnType<typeof typoHost>>) {
  expect(readFileSync(t.kopiaConfig, "utf8")).toBe(t.saved);
  const status = await h.cli(t.config, "repo", "status", "--json");
  expect({ exit: status.exitCode, stderr: status.stderr }).toMatchObject({ exit: 0 });
  expect(JSON.parse(status.stdout)).toMatchObject({ connected: true });
}

// A filesystem repository on a "backup disk" (a directory). Its server going down is the disk being
// unmounted: the path is gone, and a backup must say so instead of creating a new, empty repository.
repositorySuite({
  title: "repository on a filesystem path (a backup disk that can be unmounted)",
  downMessage: /there is no kopia repository at .*: is the disk mounted\?/,
  async start(dir) {
    disk = join(dir, "disk");
    mkdirSync(disk, { recursive: true });
    const base = (path: string) => `backend = "filesystem"\npath = "${path}"`;
    return {
      toml: base(join(disk, "repo")),
      secrets: [],
      withoutCredential: {
        toml: base(join(disk, "repo")),
        key: "repository.password_file",
        noPasswordFile: true,
      },
      async foreign() {
        const theirs = join(dir, "theirs");
        mkdirSync(theirs, { recursive: true });
        writeFileSync(join(theirs, "notes.txt"), "not kopia\n");
        return { toml: base(theirs), unchanged: async () => readdirSync(theirs).join(",") === "notes.txt" };
      },
      // "unmount": the disk's directory disappears; nothing may be created in its place
      down: async () => {
        renameSync(disk, `${disk}.unmounted`);
      },
      stillDown: async () => !existsSync(disk),
      stop: async () => {},
    };
  },
  extras: [
    (h) =>
      test("a mistyped path: read commands fail naming it, the host stays connected; the corrected config's backup needs no reconnect", async () => {
        const name = uniqueName("kdt-typo");
        try {
          await startContainer(name, name);
          const t = await typoHost(h, "typo-host");
          for (const command of [["repo", "verify"], ["snapshots"]]) {
            const r = await h.cli(t.typo, ...command);
            expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 10 });
            expect(r.stderr).toContain("the configured repository changed: was");
            expect(r.stderr).toContain(`there is no kopia repository at ${t.typoPath}: is the disk mounted?`);
            await stillConnected(h, t);
          }
          expect(existsSync(t.typoPath)).toBe(false);
          const backup = await h.cli(t.config, "backup", "--unit", name);
          expect({ exit: backup.exitCode, stderr: backup.stderr }).toMatchObject({ exit: 0 });
          expect(backup.stderr).not.toMatch(/reconnecting|repository changed/);
          expect(readFileSync(t.kopiaConfig, "utf8")).toBe(t.saved);
        } finally {
          await removeDockerObjects([name], [name]);
        }
      }, 300_000),
    (h) =>
      test("a mistyped path while a backup runs: a read command waits for no one, exit 11, the backup's connection untouched", async () => {
        const name = uniqueName("kdt-typo-held");
        const held = join(h.dir, "typo-held");
        mkdirSync(held, { recursive: true });
        const hook = join(held, "hook.sh");
        writeSlowHook(hook, held);
        try {
          await startContainer(name, name);
          const t = await typoHost(h, "typo-held-host", `\n[units.${name}]\npre_backup = "${hook}"\n`);
          await whileBackupHolds(held, name, t.config, async () => {
            const r = await h.cli(t.typo, "repo", "verify");
            expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 11 });
            expect(r.stderr).toContain("nothing was changed");
            expect(readFileSync(t.kopiaConfig, "utf8")).toBe(t.saved);
          });
          await stillConnected(h, t);
        } finally {
          await removeDockerObjects([name], [name]);
        }
      }, 300_000),
  ],
});
