import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../src/config/load.ts";
import { removeDockerObjects } from "../helpers/cleanup.ts";
import { runCli } from "../helpers/cli.ts";
import { run, startContainer, uniqueName } from "../helpers/env.ts";
import { motoIam, type S3Key, startS3 } from "../helpers/servers.ts";
import { repositorySuite } from "./repo-suite.ts";

/** The server and credential files of this run, for the extra tests. */
let server: { port: number; idFile: string; secretFile: string } | undefined;

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
    server = { port: s3.port, idFile, secretFile };
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
