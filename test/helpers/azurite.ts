import { createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testCertificates } from "./tls.ts";

/**
 * Azurite (Microsoft's Azure Storage emulator) served the way kopia v0.23.1's azure client insists on
 * talking: HTTPS to `https://<account>.<storage-domain>/` on port 443, no CA option. So the test makes a
 * CA and a certificate for that name, listens on port 443 of a random 127.x.y.z (the port is fixed, the
 * address is ours alone), and resolves the name through a hosts file of its own that `wrap` bind-mounts
 * over /etc/hosts in a private mount namespace for kopi-docka (and so kopia) only. Go trusts the CA
 * through SSL_CERT_FILE. scripts/test-env.d/azure.sh installs azurite-blob.
 */
export const AZURITE = "/usr/local/bin/azurite-blob";

export interface Azurite {
  account: string;
  key: string;
  domain: string;
  caFile: string;
  /** argv prefix that runs a command with the test's hosts file as /etc/hosts. */
  wrap: string[];
  /** A SharedKey-signed request to the blob service (path-style on the address). */
  request(
    method: string,
    path: string,
    o?: { body?: string; query?: Record<string, string> },
  ): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * An account SAS token for the blob service (version 2021-08-06), signed with the account key the way
 * Azure and Azurite check it: HMAC-SHA256 over account, permissions, services, resource types, start,
 * expiry, IP range, protocol, version and encryption scope, one per line, and a final newline.
 */
export function accountSas(
  account: string,
  key: string,
  o: { expiry: Date; permissions?: string; start?: Date },
): string {
  const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
  const v = {
    sv: "2021-08-06",
    ss: "b",
    srt: "sco",
    sp: o.permissions ?? "rwdlacup",
    st: o.start ? iso(o.start) : "",
    se: iso(o.expiry),
    spr: "https",
  };
  const toSign = [account, v.sp, v.ss, v.srt, v.st, v.se, "", v.spr, v.sv, "", ""].join("\n");
  const sig = createHmac("sha256", Buffer.from(key, "base64")).update(toSign, "utf8").digest("base64");
  const q = Object.entries({ ...v, sig }).filter(([, x]) => x !== "");
  return new URLSearchParams(q).toString();
}

export async function startAzurite(dir: string, containers: string[]): Promise<Azurite> {
  if (!existsSync(AZURITE)) throw new Error(`${AZURITE} is missing: run scripts/test-env.sh`);
  mkdirSync(join(dir, "azurite-data"), { recursive: true });
  const account = "kdtacct";
  const key = randomBytes(32).toString("base64");
  const domain = "blob.kp.test";
  const host = `${account}.${domain}`;
  const b = () => 2 + Math.floor(Math.random() * 250);
  const ip = `127.${b()}.${b()}.${b()}`;
  const tls = await testCertificates(dir, `DNS:${host}`);
  const hosts = join(dir, "hosts");
  writeFileSync(hosts, `127.0.0.1 localhost\n${ip} ${host}\n`);
  const p = Bun.spawn(
    [
      ...[AZURITE, "--blobHost", ip, "--blobPort", "443", "--cert", tls.cert, "--key", tls.key],
      ...["--location", join(dir, "azurite-data"), "--disableTelemetry", "--skipApiVersionCheck", "--loose"],
    ],
    {
      stdout: Bun.file(join(dir, "azurite.log")),
      stderr: Bun.file(join(dir, "azurite.log")),
      env: { ...process.env, AZURITE_ACCOUNTS: `${account}:${key}` },
    },
  );
  const request: Azurite["request"] = (method, path, { body = "", query = {} } = {}) => {
    const date = new Date().toUTCString();
    const version = "2021-08-06";
    const q = Object.entries(query).sort(([a], [c]) => a.localeCompare(c));
    const length = body ? String(Buffer.byteLength(body)) : "";
    const type = body ? "application/octet-stream" : "";
    const ms: Record<string, string> = { "x-ms-date": date, "x-ms-version": version };
    if (body) ms["x-ms-blob-type"] = "BlockBlob";
    const toSign = [
      ...[method, "", "", length, "", type, "", "", "", "", "", ""],
      ...Object.keys(ms)
        .sort()
        .map((k) => `${k}:${ms[k]}`),
      `/${account}/${account}${path}${q.map(([k, v]) => `\n${k}:${v}`).join("")}`,
    ].join("\n");
    const sig = createHmac("sha256", Buffer.from(key, "base64")).update(toSign, "utf8").digest("base64");
    const search = q.length ? `?${new URLSearchParams(q)}` : "";
    return fetch(`https://${ip}/${account}${path}${search}`, {
      method,
      body: body || undefined,
      headers: {
        ...ms,
        ...(type ? { "content-type": type } : {}),
        Authorization: `SharedKey ${account}:${sig}`,
      },
      tls: { rejectUnauthorized: false },
    });
  };
  const until = Date.now() + 30_000;
  for (;;) {
    const up = await request("GET", "", { query: { comp: "list" } }).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (Date.now() > until)
      throw new Error(`azurite did not answer on https://${ip}:443 (see ${dir}/azurite.log)`);
    await Bun.sleep(200);
  }
  for (const c of containers) {
    const r = await request("PUT", `/${c}`, { query: { restype: "container" } });
    if (!r.ok) throw new Error(`could not create container ${c}: ${r.status} ${await r.text()}`);
  }
  const wrap = [
    ...["unshare", "--mount", "--propagation", "private", "sh", "-c"],
    'mount --bind "$0" /etc/hosts && exec "$@"',
    hosts,
  ];
  return {
    account,
    key,
    domain,
    caFile: tls.ca,
    wrap,
    request,
    async stop() {
      p.kill("SIGTERM");
      const t = setTimeout(() => p.kill("SIGKILL"), 5000);
      await p.exited;
      clearTimeout(t);
    },
  };
}
