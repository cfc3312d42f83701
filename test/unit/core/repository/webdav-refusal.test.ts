import { afterAll, expect, test } from "bun:test";
import type { RepositoryConfig } from "../../../../src/config/schema.ts";
import { AppError, ProcessError } from "../../../../src/core/errors.ts";
import { classifyKopiaError } from "../../../../src/core/kopia/errors.ts";
import { webdav } from "../../../../src/core/repository/backends/webdav.ts";
import { classifyStorageError } from "../../../../src/core/repository/problems.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";

const dav = {
  backend: "webdav",
  url: "http://127.0.0.1:1/repo",
  username: "kd",
  webdav_password_file: "/etc/kopi-docka/dav.password",
} as unknown as RepositoryConfig & { backend: "webdav" };

test("kopia's WebDAV client refused (Authorize …: 401): exit 12 naming the password file, not kopia's command line", () => {
  for (const [argv, tail] of [
    // `repository create webdav` with a wrong password: kopia 0.23.1 ends with these words
    [
      ["kopia", "repository", "create", "webdav"],
      "unable to get repository storage: error reading .shards: ReadStream .shards: Authorize .shards: 401",
    ],
    // kopia 0.23.1's `repository create webdav` against `rclone serve webdav`, a wrong password (as seen)
    [
      ["kopia", "repository", "create", "webdav"],
      "unable to get repository storage: error listing blobs: error processing directory shards: error reading directory: error reading WebDAV dir: Authorize /: 401",
    ],
    // the same behind "cannot open storage" (a backup on a connection whose password changed)
    [["kopia", "repository", "status"], "cannot open storage: ReadStream .shards: Authorize .shards: 403"],
  ] as const) {
    const failed = classifyKopiaError(
      new ProcessError({ argv, exitCode: 1, signal: null, stderrTail: tail }),
    );
    const e = classifyStorageError(failed, dav, "http://127.0.0.1:1/repo");
    expect(exitCodeFor(e)).toBe(12);
    expect((e as AppError).message).toBe("the storage at http://127.0.0.1:1/repo refused the credentials");
    expect((e as AppError).hint).toContain("repository.webdav_password_file");
  }
});

const refusing = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: (req) => new Response("no", { status: req.headers.get("authorization") ? 401 : 403 }),
});
afterAll(() => refusing.stop(true));

test("the look before kopia (PROPFIND) answered 401 or 403: exit 12 before kopia writes anything", async () => {
  const repo = { ...dav, url: `http://127.0.0.1:${refusing.port}/repo` };
  for (const env of [{ KOPIA_WEBDAV_USERNAME: "kd", KOPIA_WEBDAV_PASSWORD: "wrong" }, {}] as Record<
    string,
    string
  >[]) {
    const e = await webdav.probeRemote?.(repo, { runner: new FakeRunner(), env }).catch((x) => x);
    expect(e).toBeInstanceOf(AppError);
    expect(exitCodeFor(e)).toBe(12);
    expect((e as AppError).message).toContain(`127.0.0.1:${refusing.port}/repo refused the credentials`);
    expect((e as AppError).hint).toContain("repository.webdav_password_file");
  }
});
