import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BLOCK_HASH } from "../../src/core/kopia/kopia.ts";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, TEST_IMAGE, tempDir, uniqueName } from "../helpers/env.ts";
import { sampleCommandLines } from "../helpers/processes.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };
const LOOP = "trap 'exit 0' TERM; while true; do sleep 0.2; done";

/** What one backend's test file provides: its server(s), and configs against them. */
export interface BackendSpec {
  title: string;
  /** Starts the server(s) under `dir`; returns the `[repository]` lines for a fresh, empty location. */
  start(dir: string, password: string): Promise<BackendUnderTest>;
  /** Environment kopi-docka runs with (e.g. STORAGE_EMULATOR_HOST), read when a command runs. */
  env?: () => Record<string, string>;
  /** argv prefix every kopi-docka command runs under (read when a command runs); none by default. */
  wrap?: () => string[];
  /** What the error says when the server is down (default: cannot reach / is the server up). */
  downMessage?: RegExp;
  /** A repository server: one URL, the storage behind it is the server's (no foreign data, no move). */
  oneLocation?: boolean;
  /** More tests on this backend, run after the shared ones and before the server goes down. */
  extras?: ((h: SuiteHandle) => void)[];
}

export interface BackendUnderTest {
  /** `[repository]` body (backend and its keys) of the location the round trip uses. */
  toml: string;
  /** Secret values that must never leave kopia's env (argv, logs, records, files). */
  secrets: string[];
  /** The same location with one credential left out (or the password file), and the key the error must name. */
  withoutCredential: { toml: string; key: string; noPasswordFile?: boolean };
  /** `[repository]` body of a location that holds data kopia did not write; `unchanged()` checks it is untouched. */
  foreign?(): Promise<{ toml: string; unchanged(): Promise<boolean> }>;

  /** After `down()` and the failed backup: true when nothing was made in the server's place. */
  stillDown?(): Promise<boolean>;
  /** Stops the server (last test: the location is not needed afterwards). */
  down(): Promise<void>;
  stop(): Promise<void>;
}

export interface SuiteHandle {
  dir: string;
  cli: (config: string, ...args: string[]) => ReturnType<typeof runCli>;
  writeConfig: (
    name: string,
    repositoryToml: string,
    o?: { password?: string; noPasswordFile?: boolean; hostname?: string },
  ) => string;
  container: string;
  untouched: () => Promise<void>;
}

/** Every file under the given dirs, as text. */
function filesUnder(...dirs: string[]): { path: string; text: string }[] {
  return dirs
    .flatMap((d) => readdirSync(d, { recursive: true, withFileTypes: true }).map((e) => ({ e, d })))
    .filter(({ e }) => e.isFile())
    .map(({ e }) => ({
      path: join(e.parentPath, e.name),
      text: readFileSync(join(e.parentPath, e.name), "latin1"),
    }));
}

/**
 * For one backend on a real server: init, a cold backup of a real container's volume, restore into a
 * fresh volume with bytes and metadata compared from inside the container; then wrong password,
 * missing credential, foreign data and server down, each changing nothing and stopping nothing.
 */
export function repositorySuite(spec: BackendSpec): void {
  describeReal(spec.title, ["docker", "kopia", "image"], () => {
    const tmp = tempDir("kdt-repo-");
    const dir = tmp.path;
    const container = uniqueName("kdt-repo");
    const volume = `${container}-v`;
    let b: BackendUnderTest;
    let config = "";
    const password = `pw-${crypto.randomUUID()}`;

    const writeConfig = (
      name: string,
      repositoryToml: string,
      o: { password?: string; noPasswordFile?: boolean; hostname?: string } = {},
    ) => {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      const pwFile = join(d, "repository.password");
      if (!o.noPasswordFile) writeFileSync(pwFile, `${o.password ?? password}\n`, { mode: 0o600 });
      const file = join(d, "config.toml");
      writeFileSync(
        file,
        `[repository]\n${repositoryToml}\npassword_file = "${pwFile}"\nhostname = "${o.hostname ?? "kd-test-host"}"\n\n` +
          `[paths]\nstate_dir = "${d}/state"\ncache_dir = "${d}/cache"\nlock_file = "${d}/kopi-docka.lock"\n` +
          `restore_dir = "${d}/stacks"\n\n[backup]\nstop_timeout = 2\n`,
      );
      return file;
    };
    const cli = (cfg: string, ...args: string[]) =>
      runCli([...args, "--config", cfg], { env: { ...env, ...spec.env?.() }, wrap: spec.wrap?.() });
    const state = async () =>
      JSON.parse((await run(["docker", "inspect", "-f", "{{json .State}}", container])).stdout) as {
        Running: boolean;
        StartedAt: string;
      };
    let startedAt = "";
    /** The container was never stopped by the failed command. */
    const untouched = async () => {
      const s = await state();
      expect(s.Running).toBe(true);
      expect(s.StartedAt).toBe(startedAt);
    };
    /** Content, mode, owner, mtime and size of every entry, read inside the container. */
    const inside = async () =>
      (
        await run([
          ...["docker", "exec", container, "sh", "-c"],
          "cd /data && find . | sort | while read f; do stat -c '%n %F %a %u:%g %Y %s' \"$f\"; " +
            '[ -f "$f" ] && sha256sum "$f"; done',
        ])
      ).stdout;

    beforeAll(async () => {
      b = await spec.start(join(dir, "server"), password);
      config = writeConfig("host", b.toml);
      await run([
        ...["docker", "run", "-d", "--name", container, "-v", `${volume}:/data`, TEST_IMAGE],
        ...["sh", "-c", LOOP],
      ]);
      await run([
        ...["docker", "exec", container, "sh", "-c"],
        "cd /data && head -c 3000000 /dev/urandom > big.bin && echo hello > a.txt && mkdir -p sub && " +
          "echo owned > sub/o.txt && chown 1000:1000 sub/o.txt && chmod 640 sub/o.txt && " +
          "touch -d '2021-02-03 04:05:06' a.txt && ln -s a.txt link",
      ]);
    }, 120_000);

    afterAll(async () => {
      await run(["docker", "rm", "-f", container], { check: false });
      await run(["docker", "volume", "rm", "-f", volume], { check: false });
      await b?.stop().catch(() => {});
      tmp.remove();
    }, 60_000);

    test("repo init, a cold backup, restore into a fresh volume: bytes and metadata equal inside the container; no secret anywhere", async () => {
      const init = await cli(config, "repo", "init");
      expect({ exit: init.exitCode, stderr: init.stderr }).toMatchObject({ exit: 0 });
      // a repository server's storage is the server's: init connects
      expect(init.stdout).toContain(
        spec.oneLocation ? "connected to the repository at" : "created the repository at",
      );
      const before = await inside();
      const pending = cli(config, "backup", "--unit", container);
      const seen = await sampleCommandLines(pending);
      const backup = await pending;
      expect({ exit: backup.exitCode, stderr: backup.stderr }).toMatchObject({ exit: 0 });
      expect([...seen].some((l) => /kopia .*snapshot create/.test(l))).toBe(true);

      const status = JSON.parse((await cli(config, "repo", "status", "--json")).stdout);
      expect(status).toMatchObject({ connected: true, units: 1 });
      expect(status.snapshots).toBeGreaterThan(0);
      // The saved connection is current (kopia holds each configured secret as given, and nothing of the
      // connection changed): a later command must not reconnect, which would happen every night.
      const again = await cli(config, "snapshots", "--json");
      expect({ exit: again.exitCode, stderr: again.stderr }).toMatchObject({ exit: 0 });
      expect(again.stderr).not.toMatch(/reconnecting|repository changed/);
      // A repository init created hashes with BLAKE3 (twice kopia's default speed); a server's is its own.
      expect(status.format?.hash).toBe(spec.oneLocation ? undefined : BLOCK_HASH);

      await run(["docker", "rm", "-f", container]);
      await run(["docker", "volume", "rm", volume]);
      const restore = await cli(config, "restore", "--unit", container, "--latest", "--yes", "--start");
      expect({ exit: restore.exitCode, stderr: restore.stderr }).toMatchObject({ exit: 0 });
      expect(await inside()).toBe(before);
      startedAt = (await state()).StartedAt;

      // The secrets: never in argv (ps during the backup), output, run records, kopia's logs, staging.
      const d = join(dir, "host");
      const written = filesUnder(
        join(d, "state"),
        join(d, "cache", "kopia-logs"),
        join(d, "cache", "staging"),
      );
      const kopiaConfig = join(d, "state", "kopia", "repository.config");
      expect(written.length).toBeGreaterThan(3);
      for (const s of [...b.secrets, password]) {
        for (const l of seen) expect(l).not.toContain(s);
        for (const out of [init, backup, restore]) expect(`${out.stdout}${out.stderr}`).not.toContain(s);
        // kopia keeps the storage credentials in its own config (mode 0600); nothing else may.
        for (const f of written)
          if (f.path !== kopiaConfig)
            expect({ f: f.path, has: f.text.includes(s) }).toEqual({ f: f.path, has: false });
        expect(JSON.stringify(status)).not.toContain(s);
      }
      expect(statSync(kopiaConfig).mode & 0o777).toBe(0o600);
    }, 300_000);

    test("a wrong password: exit 12, nothing stopped", async () => {
      const wrong = writeConfig("wrong", b.toml, { password: "not-the-password" });
      const r = await cli(wrong, "backup", "--unit", container);
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 12 });
      expect(r.stderr).toMatch(/password is wrong|refused this host's user/);
      await untouched();
    }, 120_000);

    test("a missing credential: exit 2 naming the key, nothing stopped", async () => {
      const cfg = writeConfig("nocred", b.withoutCredential.toml, {
        noPasswordFile: b.withoutCredential.noPasswordFile,
      });
      const r = await cli(cfg, "backup", "--unit", container);
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 2 });
      expect(r.stderr).toContain(b.withoutCredential.key);
      await untouched();
    }, 120_000);

    // A repository server owns its storage: there is no location of ours to hold foreign data.
    test.skipIf(spec.oneLocation === true)(
      "a location holding foreign data: repo init and backup refuse, nothing changed or stopped",
      async () => {
        const f = await (b.foreign as NonNullable<BackendUnderTest["foreign"]>)();
        const cfg = writeConfig("foreign", f.toml);
        const init = await cli(cfg, "repo", "init");
        expect({ exit: init.exitCode, stderr: init.stderr }).toMatchObject({ exit: 10 });
        expect(init.stderr).toContain("not a kopia repository");
        expect(await f.unchanged()).toBe(true);
        const backup = await cli(cfg, "backup", "--unit", container);
        expect(backup.exitCode).toBe(10);
        expect(backup.stderr).toMatch(/kopi-docka repo init|not a kopia repository/);
        expect(await f.unchanged()).toBe(true);
        await untouched();
      },
      120_000,
    );

    test.skipIf(spec.oneLocation === true)(
      "a changed location after this host connected: exit 10, is it mounted / the bucket right, nothing created",
      async () => {
        const moved = b.toml.replace(
          /(prefix|path|remote_path|url) = "([^"]*)"/,
          (_m, k, v) => `${k} = "${v.replace(/\/?$/, "")}-elsewhere/"`,
        );
        expect(moved).not.toBe(b.toml);
        const cfg = join(dir, "host", "moved.toml");
        writeFileSync(cfg, readFileSync(config, "utf8").replace(b.toml, moved));
        const r = await cli(cfg, "backup", "--unit", container);
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 10 });
        expect(r.stderr).toContain("the configured repository changed: was");
        expect(r.stderr).toMatch(/there is no kopia repository at .*-elsewhere.*(mounted|right)/);
        await untouched();
      },
      120_000,
    );

    describe("backend specifics", () => {
      // registered at collection time; `extra` needs the started backend, so it reads it lazily
      for (const t of spec.extras ?? []) t({ dir, cli, writeConfig, container, untouched });
    });

    test("the server down: exit 10 before anything is stopped, the next step named", async () => {
      await b.down();
      const r = await cli(config, "backup", "--unit", container);
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 10 });
      expect(r.stderr).toMatch(spec.downMessage ?? /cannot reach the repository .*is the server up/);
      await untouched();
      if (b.stillDown) expect(await b.stillDown()).toBe(true);
    }, 180_000);
  });
}
