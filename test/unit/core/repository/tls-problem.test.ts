import { expect, test } from "bun:test";
import type { RepositoryConfig } from "../../../../src/config/schema.ts";
import { AppError, ProcessError } from "../../../../src/core/errors.ts";
import { classifyKopiaError } from "../../../../src/core/kopia/errors.ts";
import { classifyStorageError } from "../../../../src/core/repository/problems.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";

// kopia 0.23.1's words, printed against moto_server behind TLS on loopback (`connect`) and on a
// connection it had (`status`, behind "cannot open storage").
const GET = 'error retrieving storage config from bucket "b": Get "https://127.0.0.1:9443/b/?location=": ';
const connect = (reason: string) =>
  `can't connect to storage: ${GET}tls: failed to verify certificate: ${reason}`;
const EXPIRED =
  "x509: certificate has expired or is not yet valid: current time 2026-12-04T05:39:14Z is after 2020-01-02T00:00:00Z";

const failed = (stderrTail: string, argv = ["kopia", "repository", "connect"]) =>
  classifyKopiaError(new ProcessError({ argv, exitCode: 1, signal: null, stderrTail }));

const s3 = {
  backend: "s3",
  bucket: "b",
  prefix: "",
  endpoint: "127.0.0.1:9443",
  tls: true,
} as unknown as RepositoryConfig;
const WHERE = "s3://b/ at https://127.0.0.1:9443";

function told(stderr: string, repo = s3, where = WHERE): AppError {
  const e = classifyStorageError(failed(stderr), repo, where);
  expect(e).toBeInstanceOf(AppError);
  expect(exitCodeFor(e)).toBe(10);
  const a = e as AppError;
  expect(a.message).not.toContain("is the server up");
  return a;
}

test("a certificate signed by a CA kopia does not know: a TLS certificate problem quoting kopia's reason, naming repository.ca_file", () => {
  const e = told(connect("x509: certificate signed by unknown authority"));
  expect(e.message).toBe(
    `the server at ${WHERE} presented a TLS certificate kopia does not accept (x509: certificate signed by unknown authority)`,
  );
  expect(e.hint).toContain("set repository.ca_file");
});

test("a certificate for another name: the key holding the name (s3 endpoint, webdav url)", () => {
  for (const reason of [
    "x509: certificate is valid for s3.kdt.test, not localhost",
    "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs",
    "x509: certificate is not valid for any names, but wanted to match localhost",
  ]) {
    const e = told(connect(reason));
    expect(e.message).toEndWith(`(${reason})`);
    expect(e.hint).toStartWith("repository.endpoint must name the server as its certificate does");
  }
  const webdav = { backend: "webdav", url: "https://dav.example/kopia" } as unknown as RepositoryConfig;
  const e = told(
    `error connecting to repository: unable to read format blob: ReadStream .shards: Get "https://dav.example/kopia/.shards": tls: failed to verify certificate: x509: certificate is valid for other.example, not dav.example`,
    webdav,
    "https://dav.example/kopia",
  );
  expect(e.hint).toStartWith("repository.url must name the server");
});

test("an expired certificate, on a connection kopia had ('cannot open storage'): renew it, check the clock", () => {
  const e = told(
    `open repository: unable to open repository: cannot open storage: ${GET}tls: failed to verify certificate: ${EXPIRED}`,
  );
  expect(e.message).toBe(
    `the server at ${WHERE} presented a TLS certificate kopia does not accept (${EXPIRED})`,
  );
  expect(e.hint).toContain("renew the server's certificate");
});

test("WebDAV (kopia has no CA option there): the system's CA certificates", () => {
  const webdav = { backend: "webdav", url: "https://dav.example/kopia" } as unknown as RepositoryConfig;
  const e = told(
    'unable to complete GetBlob(kopia.repository,0,-1) despite 10 retries: ReadStream .shards: Get "https://dav.example/kopia/.shards": tls: failed to verify certificate: x509: certificate signed by unknown authority',
    webdav,
    "https://dav.example/kopia",
  );
  expect(e.hint).toContain("update-ca-certificates");
});

test("a repository server: every certificate problem points at repository.server_cert_fingerprint", () => {
  const server = { backend: "server", url: "https://kopia.example:51515" } as unknown as RepositoryConfig;
  const e = told(
    'error connecting to API server: unable to establish session for purpose=: error establishing session: Session(): rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"',
    server,
    "https://kopia.example:51515",
  );
  expect(e.message).toEndWith("(x509: certificate signed by unknown authority)");
  expect(e.hint).toContain("repository.server_cert_fingerprint");
});

test("TLS configured against a plain-HTTP server: it does not speak TLS; S3's tls key, not 'is the server up?'", () => {
  const e = told(`can't connect to storage: ${GET}tls: first record does not look like a TLS handshake`);
  expect(e.message).toBe(
    `the server at ${WHERE} does not speak TLS (tls: first record does not look like a TLS handshake)`,
  );
  expect(e.hint).toContain("repository.tls = false");
  const server = { backend: "server", url: "https://kopia.example:51515" } as unknown as RepositoryConfig;
  const s = told(
    'error connecting to API server: unable to establish session for purpose=: error establishing session: Session(): rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: tls: first record does not look like a TLS handshake"',
    server,
    "https://kopia.example:51515",
  );
  expect(s.message).toEndWith("does not speak TLS (tls: first record does not look like a TLS handshake)");
});

test("a handshake the server turned down: said so, with the alert", () => {
  const e = told(`can't connect to storage: ${GET}remote error: tls: certificate required`);
  expect(e.message).toBe(
    `the server at ${WHERE} refused the TLS handshake (remote error: tls: certificate required)`,
  );
});

test("a TLS handshake that timed out is still a server that does not answer: is it up?", () => {
  const e = classifyStorageError(
    failed(`can't connect to storage: ${GET}net/http: TLS handshake timeout`),
    s3,
    WHERE,
  );
  expect((e as AppError).message).toBe(`cannot reach the repository at ${WHERE}: is the server up?`);
});
