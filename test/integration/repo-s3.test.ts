import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startS3 } from "../helpers/servers.ts";
import { repositorySuite } from "./repo-suite.ts";

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
});
