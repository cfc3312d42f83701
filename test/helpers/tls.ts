import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./env.ts";

export interface TestCertificates {
  /** The test's own CA (PEM): what a config's `ca_file` or Go's SSL_CERT_FILE would trust. */
  ca: string;
  cert: string;
  key: string;
}

/**
 * A CA of the test's own and a server certificate it signed, valid for two days, in `dir`. `san` is
 * the certificate's subjectAltName: `DNS:name` or `IP:127.0.0.1`.
 */
export async function testCertificates(dir: string, san: string): Promise<TestCertificates> {
  const f = (n: string) => join(dir, n);
  const ssl = (...a: string[]) => run(["openssl", ...a]);
  await ssl(
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=kdt-test-ca"],
    ...["-keyout", f("ca.key"), "-out", f("ca.pem")],
  );
  await ssl(
    ...["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${san.replace(/^\w+:/, "")}`],
    ...["-keyout", f("server.key"), "-out", f("server.csr")],
  );
  writeFileSync(f("server.ext"), `subjectAltName=${san}\n`);
  await ssl(
    ...["x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key")],
    ...["-CAcreateserial", "-days", "2", "-extfile", f("server.ext"), "-out", f("server.pem")],
  );
  return { ca: f("ca.pem"), cert: f("server.pem"), key: f("server.key") };
}
