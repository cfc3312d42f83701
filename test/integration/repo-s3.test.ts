import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../src/config/load.ts";
import { resolvePaths } from "../../src/config/resolve.ts";
import { createKopia } from "../../src/core/kopia/kopia.ts";
import { readPassword } from "../../src/core/kopia/password.ts";
import { silentLogger } from "../../src/core/log.ts";
import { createBunRunner, type Runner } from "../../src/core/process/runner.ts";
import { repositoryCheck } from "../../src/core/repository/doctor-check.ts";
import { openRepository } from "../../src/core/repository/open.ts";
import { Lifecycle } from "../../src/core/safe-exit.ts";
import { exitCodeFor } from "../../src/exit-codes.ts";
import { removeDockerObjects } from "../helpers/cleanup.ts";
import { runCli } from "../helpers/cli.ts";
import { run, startContainer, uniqueName } from "../helpers/env.ts";
import { motoIam, type PausableServer, type S3Key, startS3 } from "../helpers/servers.ts";
import { testCertificates } from "../helpers/tls.ts";
import { freshHostDoctor } from "./repo-doctor.ts";
import { repositorySuite } from "./repo-suite.ts";

/** kopia's time limits in the hung-server test, instead of minutes. */
const HUNG_MS = 4_000;

/** The server and credential files of this run, for the extra tests. */
let server: { port: number; idFile: string; secretFile: string; s3: PausableServer } | undefined;

// An S3-compatible server (moto) on 127.0.0.1: bucket, prefix, path-style endpoint, TLS off.
repositorySuite({
  title: "repository on S3 (moto_server on loopback)",
  async start(dir) {
    mkdirSync(dir, { recursive: true });
    const s3 = await startS3(dir, ["kdt-bucket", "kdt-foreign"]);
    const keyId = `AKID${crypto.randomUUID().slice(0, 8)}`;
    const secret = `s3-${crypto.randomUUID()}`;
    const idFile = join(dir, "key-id");
    const secretFile = join(dir, "secret");
    writeFileSync(idFile, `${keyId}\n`, { mode: 0o600 });
    writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
    server = { port: s3.port, idFile, secretFile, s3 };
    const base = (bucket: string, prefix: string) =>
      `backend = "s3"\nbucket = "${bucket}"\nprefix = "${prefix}"\nendpoint = "127.0.0.1:${s3.port}"\ntls = false\n` +
      `access_key_id_file = "${idFile}"`;
    const url = `http://127.0.0.1:${s3.port}/kdt-foreign`;
    return {
      toml: `${base("kdt-bucket", "host1/")}\nsecret_access_key_file = "${secretFile}"`,
      secrets: [secret],
      withoutCredential: { toml: base("kdt-bucket", "host1/"), key: "repository.secret_access_key_file" },
      async foreign() {
        await fetch(`${url}/theirs/report.csv`, { method: "PUT", body: "not kopia\n" });
        return {
          toml: `${base("kdt-foreign", "theirs/")}\nsecret_access_key_file = "${secretFile}"`,
          unchanged: async () => {
            const list = await (await fetch(`${url}?list-type=2`)).text();
            return (
              [...list.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]).join(",") === "theirs/report.csv"
            );
          },
        };
      },
      down: () => s3.stop(),
      stop: () => s3.stop(),
    };
  },
  extras: [
    (h) =>
      test("a bucket that does not exist: repo init says so (exit 10, no kopia command line); connect's hint does not promise init makes it", async () => {
        const s = server;
        if (!s) throw new Error("the S3 server did not start");
        const cfg = h.writeConfig(
          "no-bucket",
          `backend = "s3"\nbucket = "kdt-missing"\nendpoint = "127.0.0.1:${s.port}"\ntls = false\n` +
            `access_key_id_file = "${s.idFile}"\nsecret_access_key_file = "${s.secretFile}"`,
        );
        const init = await h.cli(cfg, "repo", "init");
        expect({ exit: init.exitCode, stderr: init.stderr }).toMatchObject({ exit: 10 });
        expect(init.stderr).toContain(
          `bucket kdt-missing does not exist at http://127.0.0.1:${s.port}: create it first (kopi-docka does not create buckets)`,
        );
        expect(init.stderr).not.toContain("--config-file");
        const connect = await h.cli(cfg, "repo", "connect");
        expect({ exit: connect.exitCode, stderr: connect.stderr }).toMatchObject({ exit: 10 });
        expect(connect.stderr).toContain("in a bucket that exists: kopi-docka does not create buckets");
        // Nothing was made: the bucket is still not there.
        expect((await fetch(`http://127.0.0.1:${s.port}/kdt-missing`, { method: "HEAD" })).status).toBe(404);
      }, 120_000),
    (h) =>
      test("a hung S3 server (takes the connection, never answers): the first read is exit 10 'did not answer', doctor's line too", async () => {
        const s = server;
        if (!s) throw new Error("the S3 server did not start");
        // The connected host's config, through the real runner, with kopia's limits cut to seconds.
        const file = join(h.dir, "host", "config.toml");
        const config = parseConfigText(readFileSync(file, "utf8"), file);
        const paths = resolvePaths(config);
        const real = createBunRunner();
        const runner: Runner = {
          run: (argv, o) => real.run(argv, { ...o, timeoutMs: Math.min(o?.timeoutMs ?? HUNG_MS, HUNG_MS) }),
        };
        const kopia = createKopia(runner, {
          configFile: paths.kopiaConfigFile,
          cacheDir: paths.kopiaCacheDir,
          logDir: paths.kopiaLogDir,
          password: () => readPassword(paths.passwordFile),
          hostname: "kd-test-host",
          username: "kopi-docka",
        });
        s.s3.pause();
        try {
          const d = { kopia, runner, config, paths, log: silentLogger() };
          // The backup's first read, which proves the repository opens.
          const e = await openRepository(d, "use", () => kopia.policyDefinedAll()).catch((x) => x);
          expect(exitCodeFor(e)).toBe(10);
          expect(e.message).toMatch(
            /^the repository at .*kdt-bucket.* did not answer within 4 s: is the server hung\?$/,
          );
          expect(e.hint).toContain("nothing was stopped or changed");
          const line = await repositoryCheck(kopia, config.repository, {
            exists: true,
            kopiaConfigFile: paths.kopiaConfigFile,
            stateDir: paths.stateDir,
            runner,
            lifecycle: new Lifecycle(),
          });
          expect(line).toMatchObject({ id: "repository", status: "fail" });
          // It names the limit it set (cut to seconds here by the test's runner).
          expect(line.detail).toEndWith("did not answer within 120 s: is the server hung?");
        } finally {
          s.s3.resume();
        }
        // Answering again: the connection was never touched.
        const again = await h.cli(file, "snapshots", "--json");
        expect({ exit: again.exitCode, stderr: again.stderr }).toMatchObject({ exit: 0 });
      }, 120_000),
    (h) =>
      test("setup by flags on s3: repository created, the config written valid (no filesystem path left in it)", async () => {
        const s = server;
        if (!s) throw new Error("the S3 server did not start");
        const d = join(h.dir, "setup-s3");
        const config = join(d, "etc", "config.toml");
        const r = await runCli([
          ...["setup", "--config", config, "--password-file", join(d, "pw"), "--generate-password"],
          ...["--backend", "s3", "--s3-bucket", "kdt-bucket", "--s3-prefix", "setup/"],
          ...["--s3-endpoint", `127.0.0.1:${s.port}`, "--s3-tls", "false"],
          ...["--s3-access-key-id-file", s.idFile, "--s3-secret-access-key-file", s.secretFile],
          ...["--state-dir", join(d, "state"), "--cache-dir", join(d, "cache")],
          ...["--lock-file", join(d, "kd.lock"), "--restore-dir", join(d, "stacks")],
          ...["--no-schedule", "--yes"],
        ]);
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
        expect(r.stdout).toContain("(created)");
        expect(statSync(config).mode & 0o777).toBe(0o600);
        const text = readFileSync(config, "utf8");
        expect(parseConfigText(text, config).repository).toMatchObject({ backend: "s3", prefix: "setup/" });
        const status = await runCli(["repo", "status", "--json", "--config", config]);
        expect({ exit: status.exitCode, stderr: status.stderr }).toMatchObject({ exit: 0 });
      }, 180_000),
    (h) =>
      test("doctor on a fresh host (no kopia connection yet), a moto that checks keys: a wrong secret fails in the backup's words, the right one opens; nothing kept", async () => {
        const d = join(h.dir, "doctor-s3");
        mkdirSync(d, { recursive: true });
        const s3 = await startS3(d, ["kdt-doctor"]);
        try {
          const key = await motoIam(s3.port).userWithKey("kdt-doctor");
          const file = (name: string, value: string) => {
            writeFileSync(join(d, name), `${value}\n`, { mode: 0o600 });
            return join(d, name);
          };
          const repo = (secret: string) =>
            `backend = "s3"\nbucket = "kdt-doctor"\nendpoint = "127.0.0.1:${s3.port}"\ntls = false\n` +
            `access_key_id_file = "${file("id", key.id)}"\nsecret_access_key_file = "${file(secret, secret === "secret" ? key.secret : "not-the-secret")}"`;
          const init = await h.cli(h.writeConfig("doctor-s3-first", repo("secret")), "repo", "init");
          expect({ exit: init.exitCode, stderr: init.stderr }).toMatchObject({ exit: 0 });
          const wrongCfg = h.writeConfig("doctor-s3-wrong", repo("wrong-secret"));
          const wrong = await freshHostDoctor(h, wrongCfg, [key.secret, "not-the-secret"]);
          expect(wrong).toMatchObject({ id: "repository", status: "fail" });
          expect(wrong.detail).toBe(
            `the storage at s3://kdt-doctor/ at http://127.0.0.1:${s3.port} refused the credentials`,
          );
          expect(wrong.hint).toBe(
            "check repository.access_key_id_file and repository.secret_access_key_file (the s3 credentials)",
          );
          // What the night's backup would say: the same words (exit 12), nothing stopped.
          const backup = await h.cli(wrongCfg, "backup", "--unit", h.container);
          expect({ exit: backup.exitCode, stderr: backup.stderr }).toMatchObject({ exit: 12 });
          expect(backup.stderr).toContain(wrong.detail);
          await h.untouched();
          const ok = await freshHostDoctor(h, h.writeConfig("doctor-s3-right", repo("secret")), [key.secret]);
          expect(ok).toMatchObject({ id: "repository", status: "ok" });
          // An empty prefix of the bucket: no repository there, and a backup never creates one remotely.
          const elsewhere = h.writeConfig("doctor-s3-none", `${repo("secret")}\nprefix = "none/"`);
          const none = await freshHostDoctor(h, elsewhere, [key.secret]);
          expect(none).toMatchObject({ status: "fail" });
          expect(none.detail).toMatch(/^there is no kopia repository at s3:\/\/kdt-doctor\/none\/ /);
        } finally {
          await s3.stop();
        }
      }, 300_000),
    (h) =>
      test("S3 behind TLS signed by a CA of its own: doctor and repo init say it is the certificate, quoting kopia, naming repository.ca_file; with it, it opens", async () => {
        const d = join(h.dir, "s3-tls");
        mkdirSync(d, { recursive: true });
        const certs = await testCertificates(d, "IP:127.0.0.1");
        const s3 = await startS3(d, ["kdt-tls"], { tls: certs });
        try {
          const s = server;
          if (!s) throw new Error("the S3 server did not start");
          const repo = (ca: boolean) =>
            `backend = "s3"\nbucket = "kdt-tls"\nendpoint = "127.0.0.1:${s3.port}"\n` +
            `access_key_id_file = "${s.idFile}"\nsecret_access_key_file = "${s.secretFile}"` +
            (ca ? `\nca_file = "${certs.ca}"` : "");
          const untrusted = h.writeConfig("tls-untrusted", repo(false));
          const line = await freshHostDoctor(h, untrusted);
          expect(line).toMatchObject({ id: "repository", status: "fail" });
          const told = `the server at s3://kdt-tls/ at https://127.0.0.1:${s3.port} presented a TLS certificate kopia does not accept (x509: certificate signed by unknown authority)`;
          expect(line.detail).toBe(told);
          expect(line.hint).toContain("set repository.ca_file");
          const init = await h.cli(untrusted, "repo", "init");
          expect({ exit: init.exitCode, stderr: init.stderr }).toMatchObject({ exit: 10 });
          expect(init.stderr).toContain(told);
          expect(init.stderr).not.toContain("is the server up");
          const trusted = await h.cli(h.writeConfig("tls-trusted", repo(true)), "repo", "init");
          expect({ exit: trusted.exitCode, stderr: trusted.stderr }).toMatchObject({ exit: 0 });
          const ok = await freshHostDoctor(h, h.writeConfig("tls-fresh", repo(true)));
          expect(ok).toMatchObject({ id: "repository", status: "ok" });
        } finally {
          await s3.stop();
        }
      }, 300_000),
    (h) =>
      test("an access key rotated by the admin: the next backup uses the new one from the secret files; a wrong one is exit 12 and changes nothing", async () => {
        const d = join(h.dir, "rotate");
        mkdirSync(d, { recursive: true });
        // A moto of its own that checks every key against its IAM (the suite's accepts any key).
        const s3 = await startS3(d, ["kdt-rotate"]);
        const iam = motoIam(s3.port);
        const name = uniqueName("kdt-rotate");
        try {
          await startContainer(name, name);
          const idFile = join(d, "key-id");
          const secretFile = join(d, "secret");
          const putKey = (k: S3Key) => {
            writeFileSync(idFile, `${k.id}\n`, { mode: 0o600 });
            writeFileSync(secretFile, `${k.secret}\n`, { mode: 0o600 });
          };
          const first = await iam.userWithKey("kdt-backup");
          putKey(first);
          const cfg = h.writeConfig(
            "rotate-host",
            `backend = "s3"\nbucket = "kdt-rotate"\nendpoint = "127.0.0.1:${s3.port}"\ntls = false\n` +
              `access_key_id_file = "${idFile}"\nsecret_access_key_file = "${secretFile}"`,
          );
          const kopiaConfig = join(h.dir, "rotate-host", "state", "kopia", "repository.config");
          const ok = async (...args: string[]) => {
            const r = await h.cli(cfg, ...args);
            expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
            return r;
          };
          await ok("repo", "init");
          await ok("backup", "--unit", name);

          const second = await iam.rotate("kdt-backup", first.id);
          putKey(second);
          const rotated = await ok("backup", "--unit", name);
          expect(rotated.stderr).toContain("credentials or connection settings");
          const saved = readFileSync(kopiaConfig, "utf8");
          expect(saved).toContain(second.id);
          expect(saved).not.toContain(first.id);

          // A wrong secret in the file: the storage refuses it, nothing is stopped, kopia keeps the
          // connection that works.
          const state = async () =>
            (await run(["docker", "inspect", "-f", "{{.State.StartedAt}}", name])).stdout;
          const startedAt = await state();
          writeFileSync(secretFile, "not-the-secret\n", { mode: 0o600 });
          const wrong = await h.cli(cfg, "backup", "--unit", name);
          expect({ exit: wrong.exitCode, stderr: wrong.stderr }).toMatchObject({ exit: 12 });
          expect(wrong.stderr).toContain("refused the credentials");
          expect(wrong.stderr).not.toContain("not-the-secret");
          expect(readFileSync(kopiaConfig, "utf8")).toBe(saved);
          expect(await state()).toBe(startedAt);

          // The right one back: the connection kopia kept is used as it is.
          putKey(second);
          const again = await ok("backup", "--unit", name);
          expect(again.stderr).not.toContain("reconnecting");
          expect(readFileSync(kopiaConfig, "utf8")).toBe(saved);
        } finally {
          await removeDockerObjects([name], [name]);
          await s3.stop();
        }
      }, 300_000),
  ],
});
