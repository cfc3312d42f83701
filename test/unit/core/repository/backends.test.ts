import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exitCodeFor } from "../../../../src/cli.ts";
import { parseConfigText } from "../../../../src/config/load.ts";
import { AppError } from "../../../../src/core/errors.ts";
import { backendOf } from "../../../../src/core/repository/backends/index.ts";
import { checkReachable } from "../../../../src/core/repository/reach.ts";
import { resolveSecrets } from "../../../../src/core/repository/secrets.ts";
import { tempDir } from "../../../helpers/env.ts";

const dir = tempDir("kdt-backends-");
afterAll(() => dir.remove());

/** A 0600 file holding `value`. */
function secret(name: string, value: string, mode = 0o600): string {
  const file = join(dir.path, name);
  writeFileSync(file, `${value}\n`);
  chmodSync(file, mode);
  return file;
}

const repoOf = (toml: string) => parseConfigText(`[repository]\n${toml}`, "x").repository;

function plan(toml: string, environ: Record<string, string> = {}) {
  const repo = repoOf(toml);
  const b = backendOf(repo);
  return {
    argv: b.storageArgs(repo),
    secrets: resolveSecrets(repo, b, environ),
    where: b.describe(repo),
    b,
    repo,
  };
}

describe("kopia argv and env per backend (kopia v0.23.1 cli/storage_*.go)", () => {
  test("s3: bucket, prefix, endpoint, region, TLS off, CA; keys only in AWS_* env", () => {
    const p = plan(
      `backend = "s3"\nbucket = "bk"\nprefix = "h1/"\nendpoint = "127.0.0.1:9000"\nregion = "eu-1"\ntls = false\nca_file = "/etc/ca.pem"\naccess_key_id_file = "${secret("id", "AKID")}"\nsecret_access_key_env = "MY_S3_SECRET"\nmax_upload_speed = 1000000`,
      { MY_S3_SECRET: "s3cr3t" },
    );
    expect(p.argv).toEqual([
      "s3",
      "--bucket",
      "bk",
      "--endpoint",
      "127.0.0.1:9000",
      "--prefix",
      "h1/",
      "--region",
      "eu-1",
      "--disable-tls",
      "--root-ca-pem-path",
      "/etc/ca.pem",
      "--max-upload-speed",
      "1000000",
    ]);
    expect(p.secrets.env).toEqual({ AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "s3cr3t" });
    expect(p.where).toBe("s3://bk/h1/ at http://127.0.0.1:9000");
  });

  test("b2: B2_KEY_ID and B2_KEY (not the Python tool's wrong names)", () => {
    const p = plan(
      `backend = "b2"\nbucket = "bb"\nkey_id_file = "${secret("b2id", "kid")}"\napplication_key_file = "${secret("b2k", "appkey")}"`,
    );
    expect(p.argv).toEqual(["b2", "--bucket", "bb"]);
    expect(p.secrets.env).toEqual({ B2_KEY_ID: "kid", B2_KEY: "appkey" });
  });

  test("azure: account key, SAS token, or a service principal", () => {
    const base = `backend = "azure"\ncontainer = "c"\nstorage_account = "acct"\n`;
    expect(plan(`${base}storage_key_file = "${secret("azk", "KEY")}"`).secrets.env).toEqual({
      AZURE_STORAGE_KEY: "KEY",
    });
    expect(plan(`${base}sas_token_env = "SAS"`, { SAS: "sv=1&sig=x" }).secrets.env).toEqual({
      AZURE_STORAGE_SAS_TOKEN: "sv=1&sig=x",
    });
    const sp = plan(
      `${base}tenant_id = "t"\nclient_id = "cl"\nclient_secret_file = "${secret("azc", "CS")}"`,
    );
    expect(sp.argv).toEqual([
      "azure",
      "--container",
      "c",
      "--storage-account",
      "acct",
      "--tenant-id",
      "t",
      "--client-id",
      "cl",
    ]);
    expect(sp.secrets.env).toEqual({ AZURE_CLIENT_SECRET: "CS" });
    // Another storage domain (a sovereign cloud, Azurite) is another place: not the saved connection.
    const saved = (storageDomain?: string) => ({
      storage: {
        type: "azureBlob",
        config: { container: "c", storageAccount: "acct", ...(storageDomain ? { storageDomain } : {}) },
      },
    });
    expect(sp.b.matches(saved(), sp.repo)).toBe(true);
    expect(sp.b.matches(saved("blob.core.chinacloudapi.cn"), sp.repo)).toBe(false);
  });

  test("gcs: the credentials file path (checked 0600); STORAGE_EMULATOR_HOST is inherited untouched", () => {
    const p = plan(
      `backend = "gcs"\nbucket = "g"\nprefix = "p/"\ncredentials_file = "${secret("gcs.json", "{}")}"`,
    );
    expect(p.argv).toEqual([
      "gcs",
      "--bucket",
      "g",
      "--prefix",
      "p/",
      "--credentials-file",
      join(dir.path, "gcs.json"),
    ]);
    expect(p.secrets.env).toEqual({});
  });

  test("sftp: key auth with pinned known_hosts", () => {
    const key = secret("id_ed25519", "KEY");
    const p = plan(
      `backend = "sftp"\nhost = "127.0.0.1"\nport = 2222\nuser = "u"\npath = "/srv/r"\nkey_file = "${key}"\nknown_hosts_file = "/etc/kh"`,
    );
    expect(p.argv).toEqual([
      ...["sftp", "--host", "127.0.0.1", "--port", "2222", "--username", "u", "--path", "/srv/r"],
      ...["--known-hosts", "/etc/kh", "--keyfile", key],
    ]);
    expect(p.secrets).toEqual({ env: {} });
    expect(p.b.tools(p.repo)).toEqual(["sftp"]);
  });

  test("sftp: a password from a 0600 file through sshpass -f (kopia --external): only its path in argv", () => {
    const pw = secret("sftppw", "hunter2");
    const p = plan(
      `backend = "sftp"\nhost = "h"\nport = 2222\nuser = "u"\npath = "/r"\nknown_hosts_file = "/etc/kh"\nsftp_password_file = "${pw}"`,
    );
    const sshArgs =
      `-f ${pw} ssh -p 2222 -F none -o UserKnownHostsFile=/etc/kh -o GlobalKnownHostsFile=/dev/null ` +
      "-o StrictHostKeyChecking=yes -o PubkeyAuthentication=no -o ConnectTimeout=30 " +
      "-o PreferredAuthentications=password,keyboard-interactive -o NumberOfPasswordPrompts=1";
    expect(p.argv).toEqual([
      ...["sftp", "--host", "h", "--port", "2222", "--username", "u", "--path", "/r"],
      ...["--external", "--ssh-command", "sshpass", `--ssh-args=${sshArgs}`],
    ]);
    expect(p.argv.join(" ")).not.toContain("hunter2");
    expect(p.secrets).toEqual({ env: {} });
    expect(p.b.tools(p.repo)).toEqual(["sshpass", "ssh", "sftp"]);
    // the saved connection of a key login is not this one: a switch reconnects
    const saved = (config: Record<string, unknown>) => ({
      storage: { type: "sftp", config: { host: "h", port: 2222, username: "u", path: "/r", ...config } },
    });
    expect(
      p.b.matches(saved({ externalSSH: true, sshCommand: "sshpass", sshArguments: sshArgs }), p.repo),
    ).toBe(true);
    expect(p.b.matches(saved({ keyfile: "/k" }), p.repo)).toBe(false);
  });

  test("sftp: refused clearly: no key and no password file, both, a password variable, a space, a readable file", () => {
    const pw = secret("sftppw2", "hunter2");
    const base = `backend = "sftp"\nhost = "h"\nuser = "u"\npath = "/r"\nknown_hosts_file = "/etc/kh"`;
    const refused = (toml: string): AppError => {
      try {
        plan(toml, { PW: "x" });
      } catch (e) {
        expect(exitCodeFor(e)).toBe(2);
        return e as AppError;
      }
      throw new Error(`not refused: ${toml}`);
    };
    expect(refused(base).message).toContain("needs repository.key_file or repository.sftp_password_file");
    expect(refused(`${base}\nkey_file = "${pw}"\nsftp_password_file = "${pw}"`).message).toContain(
      "not both",
    );
    expect(refused(`${base}\nsftp_password_env = "PW"`).message).toContain(
      "use repository.sftp_password_file",
    );
    const spaced = secret("sftp pw", "hunter2");
    expect(refused(`${base}\nsftp_password_file = "${spaced}"`).message).toContain("has a space in it");
    const open = secret("sftppw-open", "hunter2", 0o644);
    expect(refused(`${base}\nsftp_password_file = "${open}"`).message).toContain("readable by other users");
  });

  test("rclone, webdav, server", () => {
    const rc = plan(
      `backend = "rclone"\nremote_path = "r:b/p"\nrclone_exe = "/usr/bin/rclone"\nconfig_file = "${secret("rc.conf", "[r]")}"`,
    );
    const conf = join(dir.path, "rc.conf");
    expect(rc.argv).toEqual([
      ...["rclone", "--remote-path", "r:b/p", "--rclone-exe", "/usr/bin/rclone"],
      ...["--rclone-env", `RCLONE_CONFIG=${conf}`],
    ]);
    expect(rc.secrets.env).toEqual({ RCLONE_CONFIG: conf });
    expect(rc.b.tools(rc.repo)).toEqual(["/usr/bin/rclone"]);
    // kopia runs rclone with the saved exe and config file: another one is another connection.
    const savedRc = (config: Record<string, unknown>) => ({
      storage: { type: "rclone", config: { remotePath: "r:b/p", rcloneExe: "/usr/bin/rclone", ...config } },
    });
    expect(rc.b.matches(savedRc({ rcloneEnv: [`RCLONE_CONFIG=${conf}`] }), rc.repo)).toBe(true);
    expect(rc.b.matches(savedRc({ rcloneEnv: ["RCLONE_CONFIG=/root/old.conf"] }), rc.repo)).toBe(false);
    expect(
      rc.b.matches(savedRc({ rcloneExe: "/opt/rclone", rcloneEnv: [`RCLONE_CONFIG=${conf}`] }), rc.repo),
    ).toBe(false);
    // A connection string's secret would reach kopia's and rclone's command lines: refused.
    for (const remote of [
      ":s3,provider=AWS,access_key_id=AK,secret_access_key=s3cret:bk/p",
      ":sftp,host=h,pass=s3cret:p",
    ])
      expect(() => repoOf(`backend = "rclone"\nremote_path = "${remote}"`)).toThrow(
        /no secret in remote_path.*rclone config/,
      );
    expect(repoOf(`backend = "rclone"\nremote_path = ":local,nounc=true:/srv/k"`)).toMatchObject({
      backend: "rclone",
    });
    const dav = plan(
      `backend = "webdav"\nurl = "http://127.0.0.1:8080/k"\nusername = "me"\nwebdav_password_env = "DAVPW"`,
      {
        DAVPW: "pw",
      },
    );
    expect(dav.argv).toEqual(["webdav", "--url", "http://127.0.0.1:8080/k"]);
    expect(dav.secrets.env).toEqual({ KOPIA_WEBDAV_USERNAME: "me", KOPIA_WEBDAV_PASSWORD: "pw" });
    // A user and password in the URL would reach kopia's command line: refused, naming the keys.
    expect(() => repoOf(`backend = "webdav"\nurl = "https://me:pw@dav.example/k"`)).toThrow(
      /no user or password in the URL.*webdav_password_file/,
    );
    const fp = `${"AB:".repeat(31)}AB`;
    const srv = plan(
      `backend = "server"\nurl = "https://127.0.0.1:51515"\nserver_cert_fingerprint = "${fp}"`,
    );
    expect(srv.argv).toEqual([
      "server",
      "--url",
      "https://127.0.0.1:51515",
      "--server-cert-fingerprint",
      "ab".repeat(32),
    ]);
    expect(srv.b.canCreate).toBe(false);
  });
});

describe("secrets are refused unless safe and present (exit 2, the key named)", () => {
  const s3 = (extra: string) => `backend = "s3"\nbucket = "bk"\n${extra}`;
  const fail = (toml: string, environ: Record<string, string> = {}) => {
    try {
      plan(toml, environ);
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect(exitCodeFor(e)).toBe(2);
      return (e as AppError).message;
    }
    throw new Error("expected a refusal");
  };

  test("missing credential", () => {
    expect(fail(s3(`secret_access_key_env = "X"`), { X: "y" })).toContain("repository.access_key_id_file");
  });
  test("a file readable by others is named", () => {
    const f = secret("open", "v", 0o644);
    expect(fail(s3(`access_key_id_file = "${f}"\nsecret_access_key_file = "${f}"`))).toContain(
      `${f} is readable by other users (mode 644)`,
    );
  });
  test("an env var named but unset", () => {
    expect(fail(s3(`access_key_id_env = "NOPE_UNSET"\nsecret_access_key_env = "NOPE_UNSET"`))).toContain(
      "repository.access_key_id_env names NOPE_UNSET",
    );
  });
  test("a world-readable sftp key file", () => {
    const k = secret("key-open", "K", 0o644);
    expect(
      fail(
        `backend = "sftp"\nhost = "h"\nuser = "u"\npath = "/r"\nknown_hosts_file = "/kh"\nkey_file = "${k}"`,
      ),
    ).toContain("repository.key_file");
  });
  test("an unknown key is a config error, as before (strict union)", () => {
    expect(() => repoOf(`backend = "s3"\nbucket = "b"\nsecret_access_key = "inline"`)).toThrow(
      /secret_access_key/,
    );
  });
});

describe("the connection test", () => {
  test("each network backend names its server; a local path and an rclone remote have none", () => {
    const ep = (toml: string, env: Record<string, string> = {}) => {
      const p = plan(toml, { A: "x", B: "y" });
      return p.b.endpoint?.(p.repo, env);
    };
    const s3 = `access_key_id_env = "A"\nsecret_access_key_env = "B"`;
    expect(ep(`backend = "s3"\nbucket = "b"\n${s3}`)).toEqual({ host: "s3.amazonaws.com", port: 443 });
    expect(ep(`backend = "s3"\nbucket = "b"\nendpoint = "127.0.0.1:9000"\ntls = false\n${s3}`)).toEqual({
      host: "127.0.0.1",
      port: 9000,
    });
    expect(ep(`backend = "webdav"\nurl = "http://dav.example:8080/x"`)).toEqual({
      host: "dav.example",
      port: 8080,
    });
    expect(ep(`backend = "gcs"\nbucket = "g"`, { STORAGE_EMULATOR_HOST: "127.0.0.1:4443" })).toEqual({
      host: "127.0.0.1",
      port: 4443,
    });
    expect(ep(`backend = "filesystem"\npath = "/srv/r"`)).toBeUndefined();
  });

  test("a refused port is exit 10 naming host, port and the question, within seconds", async () => {
    const repo = repoOf(`backend = "webdav"\nurl = "http://127.0.0.1:1/x"`);
    const started = performance.now();
    const e = await checkReachable(repo, { host: "127.0.0.1", port: 1 }, "http://127.0.0.1:1/x").catch(
      (x) => x,
    );
    expect(exitCodeFor(e)).toBe(10);
    expect(e.message).toContain("(127.0.0.1:1: ECONNREFUSED): is the server up?");
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
