import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { run } from "./env.ts";
import type { TestCertificates } from "./tls.ts";

/**
 * Real storage servers for the repository tests, each started on 127.0.0.1 and a free port by the
 * test file that needs it (beforeAll) and stopped in afterAll. scripts/test-env.d/repo-servers.sh
 * installs them.
 */
export interface TestServer {
  port: number;
  stop(): Promise<void>;
}

export const MOTO = "/usr/local/bin/moto_server";
export const serversAvailable = {
  sshd: existsSync("/usr/sbin/sshd") && Bun.which("ssh-keygen") !== null,
  moto: existsSync(MOTO),
  rclone: Bun.which("rclone") !== null,
  fakeGcs: Bun.which("fake-gcs-server") !== null,
};

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Waits until something accepts TCP connections on 127.0.0.1:port. */
async function waitForPort(port: number, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } })
      .then((s) => {
        s.end();
        return true;
      })
      .catch(() => false);
    if (ok) return;
    await Bun.sleep(100);
  }
  throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

function spawnServer(argv: string[], logFile: string, env: Record<string, string> = {}) {
  return Bun.spawn(argv, {
    stdout: Bun.file(logFile),
    stderr: Bun.file(logFile),
    env: { ...process.env, ...env },
  });
}

async function stopped(p: ReturnType<typeof Bun.spawn>): Promise<void> {
  p.kill("SIGTERM");
  const t = setTimeout(() => p.kill("SIGKILL"), 5000);
  await p.exited;
  clearTimeout(t);
}

/** A server that can hang: `pause` stops the process (SIGSTOP; the kernel still takes connections). */
export interface PausableServer extends TestServer {
  pause(): void;
  resume(): void;
}

/**
 * An S3-compatible server (moto), path-style; `bucket` created empty. Plain HTTP, or HTTPS with `tls`
 * (a certificate `testCertificates` made).
 */
export async function startS3(
  dir: string,
  buckets: string[],
  o: { tls?: TestCertificates } = {},
): Promise<PausableServer> {
  const port = await freePort();
  const tls = o.tls ? ["-c", o.tls.cert, "-k", o.tls.key] : [];
  const p = spawnServer([MOTO, "-H", "127.0.0.1", "-p", String(port), ...tls], join(dir, "moto.log"));
  await waitForPort(port, "moto_server");
  const scheme = o.tls ? "https" : "http";
  const ca = o.tls ? { tls: { ca: readFileSync(o.tls.ca, "utf8") } } : {};
  for (const b of buckets) {
    const r = await fetch(`${scheme}://127.0.0.1:${port}/${b}`, { method: "PUT", ...ca });
    if (!r.ok) throw new Error(`could not create bucket ${b}: ${r.status}`);
  }
  return {
    port,
    stop: async () => {
      p.kill("SIGCONT");
      await stopped(p);
    },
    pause: () => p.kill("SIGSTOP"),
    resume: () => p.kill("SIGCONT"),
  };
}

export interface S3Key {
  id: string;
  secret: string;
}

/** moto's IAM, through boto3 in moto's own venv (moto signs nothing it is asked unsigned). */
const IAM_PY = `
import boto3, json, os, sys
iam = boto3.client("iam", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1",
                   aws_access_key_id="admin", aws_secret_access_key="admin")
op, user = sys.argv[1], sys.argv[2]
if op == "user":
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=json.dumps({"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
if op in ("user", "key"):
    k = iam.create_access_key(UserName=user)["AccessKey"]
    print(json.dumps({"id": k["AccessKeyId"], "secret": k["SecretAccessKey"]}))
if op == "delete":
    iam.delete_access_key(UserName=user, AccessKeyId=sys.argv[3])
`;

/**
 * The IAM of a moto server started by `startS3`: users and their access keys, and whether S3 checks
 * them (moto's `reset-auth`: off by default, so the other tests' made-up keys work). Keys are made
 * and deleted with the check off, as an administrator's own credentials would.
 */
export function motoIam(port: number) {
  const endpoint = `http://127.0.0.1:${port}`;
  const python = join(dirname(realpathSync(MOTO)), "python");
  const iam = async (...args: string[]) =>
    (await run([python, "-c", IAM_PY, ...args], { env: { ENDPOINT: endpoint } })).stdout.trim();
  const checkKeys = async (on: boolean) => {
    const r = await fetch(`${endpoint}/moto-api/reset-auth`, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: on ? "0" : "inf",
    });
    if (!r.ok) throw new Error(`moto reset-auth: HTTP ${r.status}`);
  };
  const asAdmin = async <T>(fn: () => Promise<T>, thenCheck: boolean) => {
    await checkKeys(false);
    try {
      return await fn();
    } finally {
      if (thenCheck) await checkKeys(true);
    }
  };
  return {
    /** A user allowed every S3 action, with one key; from then on S3 checks every request's key. */
    userWithKey: (user: string): Promise<S3Key> =>
      asAdmin(async () => JSON.parse(await iam("user", user)), true),
    /** An administrator's rotation: a new key for `user`, then `old` deleted. */
    rotate: (user: string, old: string): Promise<S3Key> =>
      asAdmin(async () => {
        const key: S3Key = JSON.parse(await iam("key", user));
        await iam("delete", user, old);
        return key;
      }, true),
  };
}

export interface SshServer extends TestServer {
  user: string;
  keyFile: string;
  knownHosts: string;
  /** A known_hosts file holding a different key for the same host and port. */
  wrongKnownHosts: string;
}

/**
 * A system user of its own for password logins to the test's sshd: no shell (nologin), no home of
 * its own, a random password set through chpasswd's stdin; `remove()` deletes it again.
 */
export interface PasswordUser {
  name: string;
  password: string;
  remove(): Promise<void>;
}

export async function addPasswordUser(home: string): Promise<PasswordUser> {
  const name = `kdt-sftp-${Math.random().toString(36).slice(2, 8)}`;
  const password = `sftp-${crypto.randomUUID()}`;
  await run([
    "useradd",
    "--system",
    "--no-create-home",
    "--home-dir",
    home,
    "--shell",
    "/usr/sbin/nologin",
    name,
  ]);
  await run(["chpasswd"], { stdin: `${name}:${password}\n` });
  return { name, password, remove: () => run(["userdel", name], { check: false }).then(() => {}) };
}

/**
 * OpenSSH's sshd, non-daemon, own host key and config; SFTP via internal-sftp. Key auth only, or with
 * `passwords` also password auth (for the users `addPasswordUser` makes).
 */
export async function startSshd(dir: string, o: { passwords?: boolean } = {}): Promise<SshServer> {
  mkdirSync(dir, { recursive: true });
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation dir sshd insists on
  const port = await freePort();
  const key = (name: string) =>
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", join(dir, name)]);
  await Promise.all([key("host_key"), key("client_key"), key("other_host_key")]);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")));
  chmodSync(join(dir, "authorized_keys"), 0o600);
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_key")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      `PasswordAuthentication ${o.passwords ? "yes" : "no"}`,
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password",
      "UsePAM no",
      "StrictModes no",
      "Subsystem sftp internal-sftp",
      "",
    ].join("\n"),
  );
  const p = spawnServer(["/usr/sbin/sshd", "-D", "-e", "-f", config], join(dir, "sshd.log"));
  await waitForPort(port, "sshd");
  const hostLine = (pub: string) =>
    `[127.0.0.1]:${port} ${readFileSync(join(dir, pub), "utf8").split(" ").slice(0, 2).join(" ")}\n`;
  const knownHosts = join(dir, "known_hosts");
  const wrongKnownHosts = join(dir, "known_hosts.wrong");
  writeFileSync(knownHosts, hostLine("host_key.pub"));
  writeFileSync(wrongKnownHosts, hostLine("other_host_key.pub"));
  return {
    port,
    user: "root",
    keyFile: join(dir, "client_key"),
    knownHosts,
    wrongKnownHosts,
    stop: () => stopped(p),
  };
}

/** `rclone serve webdav` of a local directory, with basic auth. */
export async function startWebdav(
  dir: string,
  root: string,
  user: string,
  pass: string,
): Promise<TestServer> {
  mkdirSync(root, { recursive: true });
  const port = await freePort();
  const p = spawnServer(
    ["rclone", "serve", "webdav", root, "--addr", `127.0.0.1:${port}`],
    join(dir, "webdav.log"),
    // rclone reads every flag from RCLONE_<FLAG> too: the password stays out of `ps`
    // no directory cache: files a test puts under `root` are served at once
    { RCLONE_CONFIG: "/dev/null", RCLONE_USER: user, RCLONE_PASS: pass, RCLONE_DIR_CACHE_TIME: "0s" },
  );
  await waitForPort(port, "rclone serve webdav");
  return { port, stop: () => stopped(p) };
}

export interface KopiaServer extends TestServer {
  url: string;
  fingerprint: string;
  /** `kopia server user add <user@host>` (the password briefly in the admin's argv: kopia has no variable). */
  addUser(userAtHost: string, password: string): Promise<void>;
  /** `kopia server acl <args>` (before start: the server reads them when it starts). */
  acl(args: string[]): Promise<void>;
  start(): Promise<void>;
}

/**
 * `kopia server start` on 127.0.0.1 with a generated TLS certificate, serving a filesystem repository
 * of its own under `dir`. Users added before `start()` are known at once.
 */
export async function kopiaServer(dir: string): Promise<KopiaServer> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const env = {
    KOPIA_PASSWORD: `srv-${crypto.randomUUID()}`,
    KOPIA_CHECK_FOR_UPDATES: "false",
    KOPIA_LOG_DIR: join(dir, "logs"),
    KOPIA_SERVER_PASSWORD: `ui-${crypto.randomUUID()}`,
    KOPIA_SERVER_CONTROL_PASSWORD: `ctl-${crypto.randomUUID()}`,
  };
  const kopia = ["kopia", "--config-file", join(dir, "server.config")];
  await run([...kopia, "repository", "create", "filesystem", "--path", join(dir, "repo")], {
    env: { ...env, KOPIA_CACHE_DIRECTORY: join(dir, "cache") },
  });
  const cert = join(dir, "cert.pem");
  let p: ReturnType<typeof Bun.spawn> | undefined;
  const server: KopiaServer = {
    port,
    url: `https://127.0.0.1:${port}`,
    fingerprint: "",
    addUser: async (u, pw) => {
      await run([...kopia, "server", "user", "add", u, "--user-password", pw], { env });
    },
    acl: async (args) => {
      await run([...kopia, "server", "acl", ...args], { env });
    },
    async start() {
      const tls = existsSync(cert)
        ? ["--tls-cert-file", cert, "--tls-key-file", join(dir, "key.pem")]
        : ["--tls-generate-cert", "--tls-generate-rsa-key-size", "2048"];
      const args = ["server", "start", "--address", `127.0.0.1:${port}`, ...tls];
      if (!existsSync(cert)) args.push("--tls-cert-file", cert, "--tls-key-file", join(dir, "key.pem"));
      p = spawnServer([...kopia, ...args], join(dir, "server.log"), env);
      await waitForPort(port, "kopia server", 60_000);
      // kopia may listen before it has written the certificate it generated
      for (
        let i = 0;
        i < 300 && !(existsSync(cert) && readFileSync(cert, "utf8").includes("END CERTIFICATE"));
        i++
      )
        await Bun.sleep(100);
      const fp = await run(["openssl", "x509", "-in", cert, "-noout", "-fingerprint", "-sha256"]);
      server.fingerprint = (fp.stdout.split("=")[1] ?? "").trim().replace(/:/g, "").toLowerCase();
    },
    stop: async () => {
      if (p) await stopped(p);
      p = undefined;
    },
  };
  return server;
}

/**
 * fake-gcs-server on 127.0.0.1 (in memory), with `buckets` created empty. kopia reaches it through
 * STORAGE_EMULATOR_HOST; `-public-host` makes it serve the object downloads Google's client asks for.
 */
export async function startGcs(
  dir: string,
  buckets: string[],
): Promise<TestServer & { emulatorHost: string }> {
  const data = join(dir, "gcs-data");
  for (const b of buckets) mkdirSync(join(data, b), { recursive: true });
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const p = spawnServer(
    [
      ...["fake-gcs-server", "-scheme", "http", "-host", "127.0.0.1", "-port", String(port)],
      ...["-public-host", host, "-backend", "memory", "-data", data],
    ],
    join(dir, "fake-gcs.log"),
  );
  await waitForPort(port, "fake-gcs-server");
  return { port, emulatorHost: host, stop: () => stopped(p) };
}
