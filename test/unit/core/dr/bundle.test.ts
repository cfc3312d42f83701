import { describe, expect, test } from "bun:test";
import { createTar } from "nanotar";
import { parse } from "smol-toml";
import { packBundle, unpackBundle } from "../../../../src/core/dr/archive.ts";
import { parseEnvFile } from "../../../../src/core/dr/bundle-env.ts";
import { bundleEntries, bundleManifest } from "../../../../src/core/dr/contents.ts";
import { decryptBundle, encryptBundle, generatePassphrase } from "../../../../src/core/dr/crypto.ts";
import { drillConfig } from "../../../../src/core/dr/drill-config.ts";
import { sealBundle } from "../../../../src/core/dr/export.ts";
import { gatherSecrets, secretReferences } from "../../../../src/core/dr/gather.ts";
import { openBundle } from "../../../../src/core/dr/open.ts";
import { shellQuote } from "../../../../src/core/format.ts";
import { bundleInput } from "./fixtures.ts";

const input = bundleInput({
  configText: '[repository]\npath = "/srv/repo"\n\n[alerts]\nca_file = "/etc/kd/it\'s ca.pem"\n',
  carried: [{ key: "alerts.ca_file", path: "/etc/kd/it's ca.pem", data: new TextEncoder().encode("CA") }],
  env: [{ key: "repository.secret_env", variable: "S3_SECRET", value: "it's $ecret" }],
  repositoryStatus: { storage: { type: "filesystem" } },
  units: [
    {
      unit: "app",
      host: "old-host",
      point: "app@b1",
      backupId: "b1",
      timestamp: "t",
      volumes: ["v"],
      sizeBytes: 1,
    },
  ],
  runs: [{ name: "r1.json", text: "{}" }],
});

test("secrets/env as recover.sh sources it: values over several lines, quotes inside, several variables", () => {
  const key = "-----BEGIN KEY-----\nab'c\n\n-----END KEY-----";
  const text = `${["SFTP_KEY", "B", "EMPTY"].map((v, i) => `${v}=${shellQuote([key, "it's", ""][i] ?? "")}`).join("\n")}\n`;
  expect(parseEnvFile(text)).toEqual({ SFTP_KEY: key, B: "it's", EMPTY: "" });
  // What `sh` makes of the same file.
  const sourced = Bun.spawnSync(["sh", "-c", `. /dev/stdin; printf %s "$SFTP_KEY"`], {
    stdin: Buffer.from(text),
  });
  expect(sourced.stdout.toString()).toBe(key);
});

describe("DR bundle", () => {
  test("round trip: pack, encrypt, decrypt, every file checked against SHA256SUMS", async () => {
    const pass = generatePassphrase();
    expect(pass).toMatch(/^[a-z2-9]{5}(-[a-z2-9]{5}){7}$/);
    const sealed = await encryptBundle(packBundle(bundleEntries(input), input.createdAt), pass, 10);
    const b = await openBundle(sealed, pass);
    expect(b.manifest).toEqual(bundleManifest(input));
    expect(b.text("secrets/repository.password")).toBe("s3cret-password\n");
    expect(b.text("secrets/files/01-it_s_ca.pem")).toBe("CA");
    expect(parseEnvFile(b.text("secrets/env"))).toEqual({ S3_SECRET: "it's $ecret" });
    expect(b.text("recover.sh")).toContain(`put 'secrets/files/01-it_s_ca.pem' '/etc/kd/it'\\''s ca.pem'`);
    expect(b.text("README.txt")).toContain("--from-host old-host --unit <UNIT> --latest --start");
    await expect(openBundle(sealed, "wrong passphrase")).rejects.toThrow(/wrong passphrase or damaged/);
    sealed.set([(sealed.at(-5) ?? 0) ^ 1], sealed.length - 5);
    await expect(decryptBundle(sealed, pass)).rejects.toThrow(/wrong passphrase or damaged/);
  });

  test("a bundle dr open would refuse (a relative config path) is never sealed", async () => {
    const relative = bundleInput({ configPath: "./kd.toml" });
    await expect(sealBundle(relative, generatePassphrase(), undefined, false)).rejects.toThrow(
      /the bundle would not open \(its manifest\).*config_path/s,
    );
  });

  test("a tar entry outside the bundle directory is refused", () => {
    for (const name of ["../evil", "kopi-docka-dr/../../etc/x", "/etc/passwd", "other/x"]) {
      const tar = createTar([{ name, data: "x" }]);
      expect(() => unpackBundle(tar)).toThrow(/unexpected path/);
    }
  });

  test("a file whose checksum differs is refused", async () => {
    const entries = bundleEntries(input).map((e) =>
      e.name.endsWith("config.toml") ? { ...e, data: new TextEncoder().encode("changed") } : e,
    );
    const sealed = await encryptBundle(packBundle(entries, input.createdAt), "pass-phrase-123", 10);
    await expect(openBundle(sealed, "pass-phrase-123")).rejects.toThrow(/config.toml differs/);
  });

  test("*_file and *_env keys are found wherever they are; the lock file is not a secret", () => {
    const refs = secretReferences({
      paths: { lock_file: "/run/x.lock" },
      repository: { password_file: "/p", key_file: "/k", secret_env: "S" },
      alerts: { notify: [{ url_file: "/u" }], ca_file: "" },
    });
    expect(refs.files).toEqual([
      ["repository.password_file", "/p"],
      ["repository.key_file", "/k"],
      ["alerts.notify.0.url_file", "/u"],
    ]);
    expect(refs.env).toEqual([["repository.secret_env", "S"]]);
    const g = gatherSecrets(
      { repository: { password_file: "/p", key_file: "/nonexistent-kd", secret_env: "KD_UNSET" } },
      "/p",
      {},
    );
    expect(g.carried).toEqual([]);
    expect(g.warnings).toEqual([
      "repository.key_file: /nonexistent-kd does not exist; not in the bundle",
      "repository.secret_env: $KD_UNSET is not set; its value is not in the bundle",
    ]);
  });

  test("an rclone repository or replica on rclone's default config: the export says its remote is not carried", () => {
    const g = gatherSecrets(
      {
        repository: { backend: "rclone", remote_path: "r:x", password_file: "/p" },
        replicas: [
          { name: "a", backend: "rclone", remote_path: "s:y", config_file: "/nonexistent-rc" },
          { name: "b", backend: "rclone", remote_path: "t:z" },
        ],
      },
      "/p",
      {},
    );
    expect(g.warnings).toEqual([
      "replicas.0.config_file: /nonexistent-rc does not exist; not in the bundle",
      "repository: rclone's own config (the remote and its credentials) is not in the bundle; set repository.config_file to it (`rclone config file` says where it is) and export again",
      "replicas.1: rclone's own config (the remote and its credentials) is not in the bundle; set replicas.1.config_file to it (`rclone config file` says where it is) and export again",
    ]);
  });

  test("a GCS repository on Google's default credentials: the export says they are not carried", () => {
    const g = gatherSecrets({ repository: { backend: "gcs", bucket: "b", password_file: "/p" } }, "/p", {});
    expect(g.warnings).toEqual([
      "repository: Google's default credentials (the host's service account or gcloud login) are not in the bundle; set repository.credentials_file to a service account key file and export again",
    ]);
  });

  test("the drill's config moves every path under its own dir and drops hooks, alerts and metrics", () => {
    const text = `[repository]\npath = "/srv/repo"\npassword_file = "/p"\n[backup.hooks]\npre_restore = "/h"\n[alerts]\nca_file = "/etc/kd/it's ca.pem"\n[metrics]\ntextfile = "/m"\n`;
    const m = bundleManifest(input);
    const d = drillConfig(text, m, "/tmp/d");
    const c = parse(d.configText) as Record<string, Record<string, unknown>>;
    expect(c.repository).toEqual({
      path: "/srv/repo",
      password_file: "/tmp/d/secrets/repository.password",
      hostname: "old-host-drill",
    });
    expect(c.paths).toEqual({
      state_dir: "/tmp/d/state",
      cache_dir: "/tmp/d/cache",
      lock_file: "/tmp/d/drill.lock",
      restore_dir: "/tmp/d/restore",
    });
    expect(c.backup).toEqual({});
    expect(c.alerts).toBeUndefined();
    expect(c.metrics).toBeUndefined();
    expect(d.writes.map((w) => w.path)).toEqual([
      "/tmp/d/secrets/repository.password",
      "/tmp/d/secrets/01-it_s_ca.pem",
    ]);
  });
});
