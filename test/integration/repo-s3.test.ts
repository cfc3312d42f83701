import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../src/config/load.ts";
import { runCli } from "../helpers/cli.ts";
import { startS3 } from "../helpers/servers.ts";
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
  ],
});
