import { expect, test } from "bun:test";
import type { RepositoryConfig } from "../../../../src/config/schema.ts";
import { AppError, ProcessError } from "../../../../src/core/errors.ts";
import { classifyKopiaError } from "../../../../src/core/kopia/errors.ts";
import { classifyStorageError } from "../../../../src/core/repository/problems.ts";
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
