import { expect, test } from "bun:test";
import type { RepositoryConfig } from "../../../../src/config/schema.ts";
import { AppError, ProcessError } from "../../../../src/core/errors.ts";
import { classifyKopiaError } from "../../../../src/core/kopia/errors.ts";
import { classifyStorageError, missingRepository } from "../../../../src/core/repository/problems.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";

// What kopia says when the rclone remote's server is down, on a connection it already has.
const DOWN =
  'open repository: unable to open repository: cannot open storage: unable to start rclone: rclone server failed to start: Failed to create file system for "kdremote:repo": read metadata failed: Propfind "http://127.0.0.1:42011/repo": dial tcp 127.0.0.1:42011: connect: connection refused';
const kopiaFailed = (stderrTail: string) =>
  classifyKopiaError(
    new ProcessError({ argv: ["kopia", "repository", "status"], exitCode: 1, signal: null, stderrTail }),
  );
const rclone = { backend: "rclone", remote_path: "kdremote:repo" } as unknown as RepositoryConfig;
const disk = { backend: "filesystem", path: "/mnt/backup/repo" } as unknown as RepositoryConfig;

test("a remote storage's server down behind kopia's 'cannot open storage': is the server up, not an unmounted disk", () => {
  const e = classifyStorageError(kopiaFailed(DOWN), rclone, "rclone kdremote:repo");
  expect(e).toBeInstanceOf(AppError);
  expect((e as AppError).code).toBe("repository");
  expect((e as AppError).message).toBe(
    "cannot reach the repository at rclone kdremote:repo: is the server up?",
  );
});

test("a filesystem repository's storage gone: still the unmounted disk it most likely is", () => {
  const e = kopiaFailed(
    "cannot open storage: cannot access storage path: stat /mnt/backup/repo: no such file",
  );
  expect(classifyStorageError(e, disk, "/mnt/backup/repo")).toBe(e);
  expect((e as AppError).hint).toContain("is its disk or share mounted?");
});

test("a remote storage refusing the key behind 'cannot open storage': exit 12 naming the credentials", () => {
  const e = classifyStorageError(
    kopiaFailed("cannot open storage: The AWS Access Key Id you provided does not exist in our records"),
    { backend: "s3", bucket: "b" } as unknown as RepositoryConfig,
    "s3 b",
  );
  expect((e as AppError).code).toBe("repository_auth");
});

const pinned = "90c3".padEnd(64, "0");
const presented = "80c3".padEnd(64, "1");
const kopiaServer = {
  backend: "server",
  url: "https://backup.example:51515",
  server_cert_fingerprint: pinned,
} as unknown as RepositoryConfig;

test("a server certificate that is not the pinned one: exit 10 naming what the server has, never 'is the server up?'", () => {
  const e = classifyStorageError(
    kopiaFailed(
      // kopia 0.23.1's words, as `repository connect server` printed them
      `error connecting to API server: unable to establish session for purpose=: error establishing session: Session(): rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: can't find certificate matching SHA256 fingerprint \\"${pinned}\\" (server had [${presented}])"`,
    ),
    kopiaServer,
    "https://backup.example:51515",
  );
  expect(e).toBeInstanceOf(AppError);
  expect(exitCodeFor(e)).toBe(10);
  const { message, hint } = e as AppError;
  expect(message).toBe(
    `the kopia server at https://backup.example:51515 presented a TLS certificate that is not the pinned one (server has SHA256 ${presented})`,
  );
  expect(hint).toContain("update repository.server_cert_fingerprint; otherwise do not connect");
});

test("a kopia call on the repository that timed out (a hung server): exit 10, how long it waited, is the server hung?", () => {
  const hung = new ProcessError({
    argv: ["kopia", "policy", "export"],
    exitCode: null,
    signal: "SIGTERM",
    stderrTail: "",
    timedOut: true,
    timeoutMs: 300_000,
  });
  const s3 = { backend: "s3", bucket: "b" } as unknown as RepositoryConfig;
  const e = classifyStorageError(hung, s3, "s3 b");
  expect(exitCodeFor(e)).toBe(10);
  expect((e as AppError).message).toBe(
    "the repository at s3 b did not answer within 300 s: is the server hung?",
  );
  expect((e as AppError).hint).toContain("nothing was stopped or changed");
  // kopia's "cannot open storage" classified first, then the timeout: still the hung server.
  const wrapped = classifyKopiaError(
    new ProcessError({ ...hung, stderrTail: "cannot open storage: ...", timedOut: true, timeoutMs: 120_000 }),
  );
  expect((classifyStorageError(wrapped, disk, "/mnt/backup/repo") as AppError).message).toBe(
    "the repository at /mnt/backup/repo did not answer within 120 s: is its disk or network share hung?",
  );
});

test("a bucket (or Azure container) that does not exist: exit 10 naming it and where, not kopia's command line", () => {
  const s3 = { backend: "s3", bucket: "nope", prefix: "", endpoint: "127.0.0.1:9000", tls: false };
  const create = (stderrTail: string) =>
    new ProcessError({ argv: ["kopia", "repository", "create"], exitCode: 1, signal: null, stderrTail });
  // kopia 0.23.1's `repository create s3` on a bucket moto does not have
  const e = classifyStorageError(
    create("unable to get repository storage: error listing blobs: The specified bucket does not exist"),
    s3 as unknown as RepositoryConfig,
    "s3://nope/ at http://127.0.0.1:9000",
  );
  expect(exitCodeFor(e)).toBe(10);
  expect((e as AppError).message).toBe(
    "bucket nope does not exist at http://127.0.0.1:9000: create it first (kopi-docka does not create buckets)",
  );
  const azure = { backend: "azure", storage_account: "acct", container: "gone", prefix: "" };
  const a = classifyStorageError(
    create(
      "unable to get repository storage: error listing blobs: RESPONSE 404: 404 The specified container does not exist.\nERROR CODE: ContainerNotFound",
    ),
    azure as unknown as RepositoryConfig,
    "azure://acct/gone/",
  );
  expect(exitCodeFor(a)).toBe(10);
  expect((a as AppError).message).toBe(
    "container gone does not exist in storage account acct: create it first (kopi-docka does not create containers)",
  );
});

test("no repository in a bucket: the hint to create one there says the bucket itself must exist", () => {
  const s3 = {
    backend: "s3",
    bucket: "b",
    prefix: "",
    endpoint: "e",
    tls: true,
  } as unknown as RepositoryConfig;
  expect(missingRepository(s3, "s3://b/").hint).toContain("kopi-docka does not create buckets");
  expect(missingRepository(disk, "/mnt/backup/repo").hint).not.toContain("bucket");
});
