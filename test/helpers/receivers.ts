import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { run } from "./env.ts";

export interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** An HTTP(S) server on 127.0.0.1 (on `port`, or any free one) that records every request and answers 200. */
export function httpRecorder(tls?: { key: string; cert: string }, port = 0) {
  const requests: Recorded[] = [];
  const server = Bun.serve({
    port,
    hostname: "127.0.0.1",
    ...(tls ? { tls } : {}),
    async fetch(req) {
      const url = new URL(req.url);
      requests.push({
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: Object.fromEntries(req.headers),
        body: await req.text(),
        at: Date.now(),
      });
      return new Response("ok");
    },
  });
  return { port: server.port as number, requests, stop: () => server.stop(true) };
}

/** `httpRecorder` on 127.0.0.1, each request read as `METHOD /path?query` and its body (live). */
export function pathRecorder(port = 0) {
  const r = httpRecorder(undefined, port);
  return {
    port: r.port,
    stop: r.stop,
    get got() {
      return r.requests.map((q) => ({ path: `${q.method} ${q.path}`, body: q.body }));
    },
  };
}

export interface Mail {
  from: string;
  to: string[];
  user?: string;
  secure: boolean;
  data: string;
}

/** An SMTP sink with STARTTLS (or TLS from the first byte) and AUTH, recording every message; on `port`, or any free one. */
export function smtpSink(tls: { key: string; cert: string }, secure: boolean, password: string, port = 0) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    secure,
    key: tls.key,
    cert: tls.cert,
    authMethods: ["PLAIN", "LOGIN"],
    onAuth(auth, _session, cb) {
      cb(auth.password === password ? null : new Error("bad password"), { user: auth.username });
    },
    onData(stream, session, cb) {
      let data = "";
      stream.on("data", (c: Buffer) => {
        data += c.toString("utf8");
      });
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          secure: session.secure,
          data,
        });
        cb();
      });
    },
  });
  return new Promise<{ port: number; mails: Mail[]; stop: () => void }>((resolve) =>
    server.listen(port, "127.0.0.1", () =>
      resolve({
        port: (server.server.address() as { port: number }).port,
        mails,
        stop: () => server.close(),
      }),
    ),
  );
}

/** A port nothing listens on now (taken and given back): a receiver that is down, until one starts on it. */
export function freePort(): Promise<number> {
  const server: Server = createServer();
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    }),
  );
}

/** A TCP server that accepts and never answers: the target that hangs. Records when each peer came. */
export function blackHole(): Promise<{ port: number; connectedAt: number[]; stop: () => void }> {
  const connectedAt: number[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const server: Server = createServer((s) => {
    connectedAt.push(Date.now());
    sockets.add(s);
    s.on("error", () => {});
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as { port: number }).port,
        connectedAt,
        stop: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      }),
    ),
  );
}

/** A throwaway CA and a server certificate for localhost/127.0.0.1 it signed (openssl). */
export async function testCa(
  dir: string,
): Promise<{ caFile: string; key: string; cert: string; ca: string }> {
  const f = (n: string) => join(dir, n);
  const ssl = (args: string[]) => run(["openssl", ...args]);
  await ssl(
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem")].concat([
      "-days",
      "2",
      "-subj",
      "/CN=kopi-docka test CA",
    ]),
  );
  await ssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    f("srv.key"),
    "-out",
    f("srv.csr"),
    "-subj",
    "/CN=localhost",
  ]);
  writeFileSync(f("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await ssl(
    [
      "x509",
      "-req",
      "-in",
      f("srv.csr"),
      "-CA",
      f("ca.pem"),
      "-CAkey",
      f("ca.key"),
      "-CAcreateserial",
    ].concat(["-out", f("srv.pem"), "-days", "2", "-extfile", f("ext.cnf")]),
  );
  const read = (n: string) => Bun.file(f(n)).text();
  return {
    caFile: f("ca.pem"),
    key: await read("srv.key"),
    cert: await read("srv.pem"),
    ca: await read("ca.pem"),
  };
}

/** Parses a textfile with prometheus_client's own parser; returns `name{labels}` → value. */
export async function parsePrometheus(file: string): Promise<Record<string, number>> {
  const python = `${process.env.KOPI_DOCKA_TOOLS_CACHE ?? "/var/cache/kopi-docka-dev"}/prom-venv/bin/python`;
  const script = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
        out[s.name + ("{" + labels + "}" if labels else "")] = s.value
print(json.dumps(out))
`;
  const r = await run([python, "-c", script, file]);
  return JSON.parse(r.stdout);
}
