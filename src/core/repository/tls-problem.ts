import type { RepositoryConfig } from "../../config/schema.ts";
import { AppError } from "../errors.ts";

/** kopia's pinned-certificate check (`server had [...]`: the chain's SHA-256 fingerprints). */
const PINNED_CERT_MISMATCH =
  /can't find certificate matching SHA256 fingerprint[^(\n]*(?:\(server had \[?([0-9a-f ]*)\]?\))?/i;

/** Go's certificate verdicts, as kopia passes them on (`tls: failed to verify certificate: x509: …`). */
const X509 = /\bx509: [^\n"]*/;

/** TLS configured, the server speaking plain HTTP (Go's HTTP client, its TLS stack). */
const PLAIN_HTTP =
  /http: server gave HTTP response to HTTPS client|tls: first record does not look like a TLS handshake/;

/** The server turned the handshake down (an alert: a client certificate required, no common version). */
const REFUSED_HANDSHAKE = /remote error: tls: [^\n"]*/;

/**
 * A TLS failure in kopia's words, told as one: the server answered, so "is it up?" would send a
 * person to the wrong place. kopia's reason is quoted; the hint names the key that fixes it.
 * Undefined when the text holds none.
 */
export function tlsProblem(
  text: string,
  repo: RepositoryConfig,
  where: string,
  cause: unknown,
): AppError | undefined {
  const problem = (message: string, hint: string) => new AppError("repository", message, { hint, cause });
  const pinned = PINNED_CERT_MISMATCH.exec(text);
  if (pinned) {
    const has = (pinned[1] ?? "").trim().split(/\s+/).filter(Boolean).join(", ");
    // The server answered, with another certificate: changed on purpose, or someone in between.
    return problem(
      `the kopia server at ${where} presented a TLS certificate that is not the pinned one${has ? ` (server has SHA256 ${has})` : ""}`,
      "if the server's certificate changed on purpose, update repository.server_cert_fingerprint; otherwise do not connect",
    );
  }
  const x509 = X509.exec(text)?.[0].trim();
  if (x509)
    return problem(
      `the server at ${where} presented a TLS certificate kopia does not accept (${x509})`,
      certificateHint(x509, repo),
    );
  const plain = PLAIN_HTTP.exec(text)?.[0];
  if (plain) return problem(`the server at ${where} does not speak TLS (${plain})`, plainHttpHint(repo));
  const refused = REFUSED_HANDSHAKE.exec(text)?.[0].trim();
  if (refused)
    return problem(
      `the server at ${where} refused the TLS handshake (${refused})`,
      `check the server's TLS settings; ${trustHint(repo)}`,
    );
  return undefined;
}

function certificateHint(reason: string, repo: RepositoryConfig): string {
  if (repo.backend === "server")
    return "repository.server_cert_fingerprint must be the SHA-256 fingerprint of the certificate the server presents (`kopia server start` prints it)";
  if (/expired or is not yet valid/.test(reason))
    return "renew the server's certificate (and check this host's clock: `date`)";
  if (/is valid for|not valid for any names|doesn't contain any IP SANs|legacy Common Name/.test(reason))
    return `${nameKey(repo)} must name the server as its certificate does (or give the server a certificate for that name)`;
  return trustHint(repo);
}

/** The key holding the name kopia checks the certificate against. */
function nameKey(repo: RepositoryConfig): string {
  switch (repo.backend) {
    case "s3":
      return "repository.endpoint";
    case "webdav":
      return "repository.url";
    case "azure":
      return "repository.storage_domain";
    default:
      return `the server's name in [repository]`;
  }
}

/** How this backend's kopia comes to trust a certificate authority. */
function trustHint(repo: RepositoryConfig): string {
  if (repo.backend === "s3")
    return "if the store's certificate is signed by a CA of your own, put that CA's certificate (PEM) in a file and set repository.ca_file";
  if (repo.backend === "rclone")
    return "the remote's TLS settings are rclone's (`rclone config`; its --ca-cert), or the system's CA certificates";
  // kopia has no CA option for these: Go trusts the system's CA certificates.
  return `kopia trusts the system's CA certificates for the ${repo.backend} backend: add the CA that signed the server's certificate (Debian: copy it to /usr/local/share/ca-certificates/ and run update-ca-certificates)`;
}

function plainHttpHint(repo: RepositoryConfig): string {
  if (repo.backend === "s3")
    return "point repository.endpoint at the store's HTTPS port, or set repository.tls = false (a store on a trusted local network only)";
  if (repo.backend === "webdav")
    return "repository.url: https:// only for a server that speaks TLS (http:// on a trusted local network only)";
  if (repo.backend === "server")
    return "repository.url must be the kopia server's TLS address (it runs with TLS)";
  return "check [repository] in the config: the address is of a server without TLS";
}
