import type { RepositoryConfig } from "../../config/schema.ts";
import { AppError, ProcessError } from "../errors.ts";
import { passphraseKeyError } from "./backends/ssh-key.ts";
import { tlsProblem } from "./tls-problem.ts";

/** The location answers but holds no kopia repository (an unmounted disk, a wrong bucket or prefix). */
export function missingRepository(repo: RepositoryConfig, where: string, canCreate = true): AppError {
  const question =
    repo.backend === "filesystem"
      ? "is the disk mounted?"
      : repo.backend === "sftp" || repo.backend === "tailscale"
        ? "is the path on the server right?"
        : repo.backend === "server"
          ? "is the server's repository set up?"
          : repo.backend === "webdav"
            ? "is the URL right?"
            : repo.backend === "rclone"
              ? "is the remote path right?"
              : "is the bucket (and prefix) right?";
  // kopia's connect cannot tell a missing bucket from an empty one (both a format blob not found).
  const kind = container(repo);
  const inIt = kind ? ` (in a ${kind.noun} that exists: kopi-docka does not create ${kind.noun}s)` : "";
  return new AppError("repository", `there is no kopia repository at ${where}: ${question}`, {
    hint: canCreate
      ? `fix [repository] in the config, or run \`kopi-docka repo init\` to create a new repository there${inIt}`
      : "fix [repository] in the config",
  });
}

/** The bucket (Azure: container) a backend keeps its repository in, and where, for people. */
function container(repo: RepositoryConfig): { noun: string; name: string; at: string } | undefined {
  switch (repo.backend) {
    case "s3":
      return {
        noun: "bucket",
        name: repo.bucket,
        at: ` at ${repo.tls ? "https" : "http"}://${repo.endpoint}`,
      };
    case "gcs":
    case "b2":
      return { noun: "bucket", name: repo.bucket, at: "" };
    case "azure":
      return { noun: "container", name: repo.container, at: ` in storage account ${repo.storage_account}` };
    default:
      return undefined;
  }
}

/** The storage's own "no such bucket/container" (S3, Azure, Google's client), whatever kopia did. */
const NO_SUCH_CONTAINER =
  /The specified (bucket|container) does not exist|NoSuchBucket|ContainerNotFound|bucket doesn't exist/i;

export function foreignData(where: string): AppError {
  return new AppError(
    "repository",
    `${where} holds data that is not a kopia repository; nothing was changed`,
    {
      hint: "point [repository] at an empty location or at an existing kopia repository",
    },
  );
}

const UNREACHABLE =
  /connection refused|no such host|i\/o timeout|network is unreachable|no route to host|connection reset|dial tcp|unable to (dial|connect)|handshake failed|handshake timeout|tls:|x509:|EOF$/im;

const UNREACHABLE_HINT =
  "check the server, the network and [repository] in the config; nothing was stopped or changed";

/** The storages' refusals; kopia's WebDAV client says only "Authorize <path>: 401" (or 403). */
const CREDENTIALS_REFUSED =
  /unable to authenticate|permission denied|access denied|invalid access key|InvalidAccessKeyId|access key id you provided does not exist|signature.*does not match|forbidden|unauthorized|AuthenticationFailed|AuthorizationFailure|Authorize [^:\n]*: 40[13]\b/i;

/** A kopia failure while opening storage, told in terms of the configured location. */
export function classifyStorageError(e: unknown, repo: RepositoryConfig, where: string): unknown {
  // kopia's "cannot open storage" is classified before this sees it, as a disk that is gone. Behind it
  // a remote storage says what happened (its server down, the credentials refused, a changed host
  // key): told as an unmounted disk, the next step would be wrong. kopia's own words decide then.
  const failed = e instanceof AppError && e.cause instanceof ProcessError ? e.cause : e;
  // Nothing came back before the runner's limit: no words of kopia's to go by, a hung server's answer.
  if (failed instanceof ProcessError && failed.timedOut) return hung(failed, repo, where);
  if (e instanceof AppError && e.code === "repository" && e.cause instanceof ProcessError) {
    if (repo.backend === "filesystem") return e;
    const told = classifyStorageError(e.cause, repo, where);
    return told instanceof AppError ? told : e;
  }
  if (!(e instanceof ProcessError)) return e;
  const text = e.stderrTail;
  // kopia's own SSH client says "knownhosts: …"; OpenSSH (a password login through sshpass) says the rest.
  if (
    /knownhosts: key mismatch|host key mismatch|REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(
      text,
    )
  )
    return new AppError(
      "repository",
      `the SFTP server at ${where} presented a host key that is not the pinned one`,
      {
        hint: "if the server's key changed on purpose, update repository.known_hosts_file; otherwise do not connect",
        cause: e,
      },
    );
  if (/knownhosts: key is unknown|No \S+ host key is known for/i.test(text))
    return new AppError(
      "repository",
      `the SFTP server's host key is not in ${"repository.known_hosts_file"}`,
      {
        hint: "add the server's key: ssh-keyscan -p PORT HOST >> the known_hosts file (check it first)",
        cause: e,
      },
    );
  // Checked before kopia runs (`refusePassphraseKey`); this is for a key that got one since.
  if (/private key is passphrase protected/i.test(text) && "key_file" in repo && repo.key_file)
    return passphraseKeyError(repo.key_file, "repository.key_file", e);
  // Before "unreachable": the server answered, in a TLS handshake that failed (kopia's reason quoted).
  const tls = tlsProblem(text, repo, where, e);
  if (tls) return tls;
  if (repo.backend === "server" && /access denied for|PermissionDenied|Unauthenticated/i.test(text))
    return new AppError(
      "repository_auth",
      `the kopia server at ${where} refused this host's user: a wrong password, or a user the server does not have`,
      {
        hint: "repository.password_file must hold the password given to `kopia server user add kopi-docka@<hostname>` on the server",
        cause: e,
      },
    );
  const kind = container(repo);
  if (kind && NO_SUCH_CONTAINER.test(text))
    return new AppError(
      "repository",
      `${kind.noun} ${kind.name} does not exist${kind.at}: create it first (kopi-docka does not create ${kind.noun}s)`,
      { hint: `create it, or fix [repository] in the config; nothing was stopped or changed`, cause: e },
    );
  if (CREDENTIALS_REFUSED.test(text)) return credentialsRefused(e, repo, where);
  if (/cannot access storage path|no such file or directory/i.test(text) && repo.backend === "filesystem")
    return new AppError("repository", `cannot access ${where}: is the disk mounted?`, { cause: e });
  if (UNREACHABLE.test(text))
    return new AppError("repository", `cannot reach the repository at ${where}: is the server up?`, {
      hint: UNREACHABLE_HINT,
      cause: e,
    });
  return e;
}

/** A kopia call on the repository killed at its time limit: the server (or share) hung. */
function hung(e: ProcessError, repo: RepositoryConfig, where: string): AppError {
  const within = e.timeoutMs === undefined ? "in time" : `within ${Math.round(e.timeoutMs / 1000)} s`;
  const question =
    repo.backend === "filesystem" ? "is its disk or network share hung?" : "is the server hung?";
  return new AppError("repository", `the repository at ${where} did not answer ${within}: ${question}`, {
    hint: UNREACHABLE_HINT,
    cause: e,
  });
}

/** Exit 12: the storage said no to the configured credentials (kopia's words, or a probe's HTTP status). */
export function credentialsRefused(e: unknown, repo: RepositoryConfig, where: string): AppError {
  return new AppError("repository_auth", `the storage at ${where} refused the credentials`, {
    hint: credentialHint(repo),
    cause: e,
  });
}

/** Which credential to look at, by what the config gives. */
function credentialHint(repo: RepositoryConfig): string {
  const r: Record<string, unknown> = { ...repo };
  if (repo.backend === "sftp" && r.sftp_password_file)
    return "check the SFTP user's password in repository.sftp_password_file (and that the server allows password login)";
  if (repo.backend === "webdav")
    return `check repository.username and the password in repository.${r.webdav_password_env ? "webdav_password_env" : "webdav_password_file"} (the WebDAV server's user)`;
  if (repo.backend === "azure" && !r.client_id && (r.sas_token_file || r.sas_token_env))
    return "check the SAS token (repository.sas_token_file or sas_token_env): it may have expired, or lack permissions on the container (read, write, delete, list, add, create)";
  const given = secretsGiven(r, STORAGE_SECRETS[repo.backend] ?? []);
  if (repo.backend === "rclone")
    return r.config_file
      ? `check the remote's credentials in the rclone config repository.config_file (${r.config_file}); \`RCLONE_CONFIG=${r.config_file} rclone lsd ${remoteOf(r)}\` tries them`
      : `check the remote's credentials in root's rclone config (\`rclone config file\` names it); \`rclone lsd ${remoteOf(r)}\` tries them`;
  if (repo.backend === "gcs" && r.credentials_file)
    return `check the service account key in repository.credentials_file (${r.credentials_file}): its account needs access to the bucket`;
  if (repo.backend === "sftp" && r.key_file)
    return `check that the public half of repository.key_file is in ~${r.user}/.ssh/authorized_keys on ${r.host}`;
  if (given.length) return `check ${given.join(" and ")} (the ${repo.backend} credentials)`;
  return `check the credentials in [repository] for the ${repo.backend} backend`;
}

/** `name:` of an rclone `remote_path` (`name:path`). */
const remoteOf = (r: Record<string, unknown>) => `${String(r.remote_path).split(":")[0]}:`;

/** The storage secrets each backend reads, as `<key>_file` or `<key>_env`: the ones a refusal is about. */
const STORAGE_SECRETS: Record<string, string[]> = {
  s3: ["access_key_id", "secret_access_key", "session_token"],
  b2: ["key_id", "application_key"],
  azure: ["storage_key", "client_secret"],
};

/** `repository.<key>_file` or `_env`, for each of `keys` the config sets: the setting to look at. */
function secretsGiven(r: Record<string, unknown>, keys: readonly string[]): string[] {
  return keys.flatMap((k) =>
    r[`${k}_file`] ? [`repository.${k}_file`] : r[`${k}_env`] ? [`repository.${k}_env`] : [],
  );
}
