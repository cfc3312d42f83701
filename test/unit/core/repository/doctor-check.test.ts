import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseConfigText } from "../../../../src/config/load.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import type { Runner } from "../../../../src/core/process/runner.ts";
import { filesystemRepositoryExists } from "../../../../src/core/repository/backends/filesystem.ts";
import { repositoryCheck } from "../../../../src/core/repository/doctor-check.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

// The S3 endpoint the connection test's one TCP connect reaches (kopia itself is scripted).
let listener: { port: number; stop(closeActive?: boolean): void } | undefined;
beforeAll(() => {
  listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
});
afterAll(() => listener?.stop(true));

const KEY_ID = "AKIDDOCTORPROBE";
const SECRET = "s3-secret-doctor-probe";

interface Setup {
  /** kopi-docka's kopia config exists (a connected host); otherwise a fresh host. */
  connected?: boolean;
  delayMs?: number;
  /** `[repository]` body instead of the S3 one. */
  repository?: (dir: string) => string;
  /** The marker of an earlier connection. */
  marker?: boolean;
  /** Runs while kopia's call is under way (the signal path). */
  during?: (lifecycle: Lifecycle) => Promise<void>;
}

/** doctor's repository line, kopia answering as `answers` say. */
async function check(answers: Omit<Expectation, "argv">[], o: Setup = {}) {
  const t = tempDir("kdt-doctor-repo-");
  dirs.push(t);
  const kopiaConfigFile = join(t.path, "kopia", "repository.config");
  const stateDir = join(t.path, "state");
  mkdirSync(dirname(kopiaConfigFile), { recursive: true });
  if (o.connected) writeFileSync(kopiaConfigFile, "{}");
  if (o.marker) {
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, "repository.json"), '{"backend":"filesystem","location":"x"}');
  }
  const secret = (name: string, value: string) => {
    writeFileSync(join(t.path, name), `${value}\n`, { mode: 0o600 });
    return join(t.path, name);
  };
  const passwordFile = secret("repository.password", "pw");
  const lifecycle = new Lifecycle();
  const fake = new FakeRunner(answers.map((a) => ({ argv: (argv) => argv[0] === "kopia", ...a })));
  // A call that takes a while, as a hung server's does until kopia's limit.
  const runner: Runner = {
    run: async (argv, opts) => {
      await Bun.sleep(o.delayMs ?? 0);
      await o.during?.(lifecycle);
      return fake.run(argv, opts);
    },
  };
  const kopia = createKopia(runner, {
    configFile: kopiaConfigFile,
    cacheDir: join(t.path, "cache"),
    logDir: join(t.path, "logs"),
    password: () => "pw",
    hostname: "h",
    username: "kopi-docka",
  });
  const body =
    o.repository?.(t.path) ??
    `backend = "s3"\nbucket = "b"\nendpoint = "127.0.0.1:${listener?.port}"\ntls = false\n` +
      `access_key_id_file = "${secret("key-id", KEY_ID)}"\nsecret_access_key_file = "${secret("secret", SECRET)}"`;
  const repo = parseConfigText(`[repository]\n${body}\npassword_file = "${passwordFile}"\n`, "x").repository;
  const progress: string[] = [];
  const line = await repositoryCheck(kopia, repo, {
    exists: repo.backend !== "filesystem" || filesystemRepositoryExists(repo.path),
    kopiaConfigFile,
    stateDir,
    runner,
    lifecycle,
    progress: (l) => progress.push(l),
    slowMs: 5,
  });
  const configOf = (argv: readonly string[]) => argv[argv.indexOf("--config-file") + 1] ?? "";
  return { line, progress, calls: fake.calls, configOf, kopiaConfigFile, lifecycle, dir: t.path };
}

test("a repository that never answers: a failed check saying so (after a line that it is waited for), not kopia's command line", async () => {
  const { line, progress, calls } = await check([{ timedOut: true }], { connected: true, delayMs: 50 });
  expect(calls[0]?.options.timeoutMs).toBe(120_000);
  expect(line).toMatchObject({ id: "repository", status: "fail" });
  expect(line.detail).toMatch(/^the repository at .*b.* did not answer within 120 s: is the server hung\?$/);
  expect(line.hint).toContain("check the server");
  expect(progress).toHaveLength(1);
  expect(progress[0]).toMatch(/^waiting for the repository at .* to answer/);
});

test("an answer in time: no waiting line; a refused key is told as a backup tells it", async () => {
  const refused = await check(
    [
      {
        exitCode: 1,
        stderr: "cannot open storage: The AWS Access Key Id you provided does not exist in our records.",
      },
    ],
    { connected: true },
  );
  expect(refused.progress).toEqual([]);
  expect(refused.line).toMatchObject({ status: "fail" });
  expect(refused.line.detail).toContain("refused the credentials");
});

test("a fresh host (no kopia connection yet): a read-only connect into a config of its own, told as the backup tells a refused key; nothing of it left", async () => {
  const r = await check([
    {
      exitCode: 1,
      // kopia 0.23.1 against moto with a key its IAM does not have
      stderr:
        'can\'t connect to storage: error retrieving storage config from bucket "b": The AWS Access Key Id you provided does not exist in our records.',
    },
  ]);
  expect(r.line).toMatchObject({ id: "repository", status: "fail" });
  expect(r.line.detail).toMatch(
    /^the storage at s3:\/\/b\/ at http:\/\/127\.0\.0\.1:\d+ refused the credentials$/,
  );
  expect(r.line.hint).toBe(
    "check repository.access_key_id_file and repository.secret_access_key_file (the s3 credentials)",
  );
  const [connect] = r.calls;
  expect(connect?.argv).toContain("--readonly");
  expect(connect?.argv.slice(1, 4)).toEqual(["--config-file", r.configOf(connect?.argv ?? []), "repository"]);
  expect(connect?.options.timeoutMs).toBe(120_000);
  // Never kopi-docka's own connection file; the secrets in kopia's env only.
  const probeConfig = r.configOf(connect?.argv ?? []);
  expect(probeConfig).not.toBe(r.kopiaConfigFile);
  expect(connect?.options.env).toMatchObject({ AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET });
  expect(connect?.argv.join(" ")).not.toContain(SECRET);
  expect(JSON.stringify(r.line)).not.toContain(SECRET);
  expect(existsSync(r.kopiaConfigFile)).toBe(false);
  expect(existsSync(dirname(probeConfig))).toBe(false);
  expect(r.lifecycle.pending()).toEqual([]);
});

test("a fresh host whose repository opens: ok, saying the next backup connects; the temp dir gone", async () => {
  const r = await check([{ exitCode: 0 }]);
  expect(r.line).toMatchObject({ id: "repository", status: "ok" });
  expect(r.line.detail).toMatch(
    /^s3:\/\/b\/ at http:\/\/127\.0\.0\.1:\d+ opens with the configured credentials and password \(not connected yet: the next backup connects\)$/,
  );
  expect(existsSync(dirname(r.configOf(r.calls[0]?.argv ?? [])))).toBe(false);
  expect(existsSync(r.kopiaConfigFile)).toBe(false);
});

test("a fresh host, no repository at the remote location: failed, as the backup refuses (it never creates one there)", async () => {
  const r = await check([
    {
      exitCode: 1,
      stderr: "error connecting to repository: repository not initialized in the provided storage",
    },
  ]);
  expect(r.line).toMatchObject({ status: "fail" });
  expect(r.line.detail).toMatch(
    /^there is no kopia repository at s3:\/\/b\/ .*: is the bucket \(and prefix\) right\?$/,
  );
  expect(r.line.hint).toContain("kopi-docka repo init");
});

test("a fresh host, the server down: told in seconds by the connection test, kopia never run", async () => {
  const r = await check([], {
    repository: () =>
      `backend = "webdav"\nurl = "http://127.0.0.1:1/dav"\nusername = "u"\nwebdav_password_env = "KDT_UNUSED"`,
  });
  expect(r.line).toMatchObject({ status: "fail" });
  expect(r.line.detail).toMatch(
    /^cannot reach the repository at http:\/\/127\.0\.0\.1:1\/dav .*is the server up\?$/,
  );
  expect(r.calls).toEqual([]);
});

test("a signal while the probe's kopia runs: the temp dir (kopia's config holds the storage keys) goes with the compensations", async () => {
  let seen = "";
  const r = await check([{ exitCode: 1, stderr: "can't connect to storage: dial tcp: connection refused" }], {
    during: async (lifecycle) => {
      seen = lifecycle
        .pending()
        .map((c) => c.name)
        .join(",");
      await lifecycle.runAll();
    },
  });
  const probeDir = dirname(r.configOf(r.calls[0]?.argv ?? []));
  expect(seen).toBe(`remove ${probeDir}`);
  expect(existsSync(probeDir)).toBe(false);
});

test("a filesystem repository not there: the first backup creates it on a new host; on a host that used it, the disk is not mounted", async () => {
  const repository = (dir: string) => `backend = "filesystem"\npath = "${join(dir, "gone")}"`;
  const fresh = await check([], { repository });
  expect(fresh.line).toEqual({
    id: "repository",
    status: "warn",
    detail: "not created yet: the first backup creates it",
  });
  for (const used of [{ marker: true }, { connected: true }]) {
    const r = await check([], { repository, ...used });
    expect(r.line).toMatchObject({ status: "fail" });
    expect(r.line.detail).toMatch(/^there is no kopia repository at .*gone: is the disk mounted\?$/);
  }
});
