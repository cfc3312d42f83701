import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import { ProcessError } from "../../../../src/core/errors.ts";
import { createLogger } from "../../../../src/core/log.ts";
import type { Runner } from "../../../../src/core/process/runner.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { commitSetup } from "../../../../src/core/setup/commit.ts";
import { answersFromFlags } from "../../../../src/core/setup/flags.ts";
import { renderSetupConfig } from "../../../../src/core/setup/render.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { embeddedOnly, setupAnswers } from "./fixtures.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** kopia fails at `repository create` (a full disk, a signal): what commit made must be gone. */
const failingCreate: Runner = {
  async run(argv) {
    if (argv.includes("create"))
      throw new ProcessError({ argv, exitCode: 1, signal: null, stderrTail: "no space left on device" });
    return { exitCode: 0, stdout: "", stderr: "" } as Awaited<ReturnType<Runner["run"]>>;
  },
};

describe("setup commit", () => {
  test("a failed repository create leaves no password file, no repository dir and no config", async () => {
    const d = mkdtempSync(join(tmpdir(), "kd-setup-commit-"));
    dirs.push(d);
    const answers = setupAnswers(d, "generate");
    const ctx = { runner: failingCreate, log: createLogger("quiet"), lifecycle: new Lifecycle() };
    await expect(
      commitSetup(ctx, answers, { configText: renderSetupConfig(answers), force: false, now: new Date() }),
    ).rejects.toThrow(/no space left/);
    expect(existsSync(join(d, "pw"))).toBe(false);
    expect(existsSync(join(d, "repo"))).toBe(false);
    expect(existsSync(join(d, "etc", "config.toml"))).toBe(false);
  });
});

describe("setup commit with no kopia on PATH", () => {
  test("the repository is made by the kopia every later command runs: the full build's own", async () => {
    const d = mkdtempSync(join(tmpdir(), "kd-setup-commit-"));
    dirs.push(d);
    const answers = setupAnswers(d, "generate");
    const kopia = embeddedOnly(join(d, "state"));
    // Strict: only the extracted file is answered (its create fails, as a full disk would); a bare
    // "kopia" from PATH would be an unexpected command.
    const runner = new FakeRunner(
      [],
      [
        {
          argv: (a) => a[0] === kopia.path && a.includes("create"),
          exitCode: 1,
          stderr: "no space left on device",
        },
        { argv: (a) => a[0] === kopia.path },
      ],
    );
    const ctx = { runner, log: createLogger("quiet"), lifecycle: new Lifecycle(), kopiaSeams: kopia.seams };
    await expect(
      commitSetup(ctx, answers, { configText: renderSetupConfig(answers), force: false, now: new Date() }),
    ).rejects.toThrow(/no space left/);
    expect(runner.calls.some((c) => c.argv.includes("create"))).toBe(true);
  });
});

describe("setup commit on a remote backend", () => {
  test("a repository it created stays with its password file when writing the config fails", async () => {
    const d = mkdtempSync(join(tmpdir(), "kd-setup-commit-"));
    dirs.push(d);
    const seen: string[][] = [];
    const kopiaOk: Runner = {
      async run(argv) {
        seen.push([...argv]);
        return { exitCode: 0, stdout: "", stderr: "" } as Awaited<ReturnType<Runner["run"]>>;
      },
    };
    // Something listens where the repository is: the connection test before kopia passes.
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => new Response("", { status: req.method === "MKCOL" ? 201 : 404 }),
    });
    const url = `http://127.0.0.1:${server.port}/dav`;
    const { answers } = answersFromFlags(
      {
        keep: {},
        backend: "webdav",
        backendFlags: (flag) => (flag === "webdav-url" ? url : undefined),
        paths: {
          state_dir: join(d, "state"),
          cache_dir: join(d, "cache"),
          lock_file: join(d, "l"),
          restore_dir: join(d, "r"),
        },
        passwordFile: join(d, "pw"),
        generatePassword: true,
        yes: true,
      },
      ConfigSchema.parse({}),
      { configPath: join(d, "etc"), configExists: false },
    );
    // The config path is a directory: the last step, writing the config, fails.
    mkdirSync(join(d, "etc", "not-a-file"), { recursive: true });
    const ctx = { runner: kopiaOk, log: createLogger("quiet"), lifecycle: new Lifecycle() };
    const e = await commitSetup(ctx, answers, {
      configText: renderSetupConfig(answers),
      force: true,
      now: new Date(),
    }).catch((x) => x);
    server.stop(true);
    expect(e.message).toContain("/etc");
    expect(seen.some((a) => a.includes("create") && a.includes("webdav"))).toBe(true);
    // Before: the password file went with the undo, leaving a remote repository no one can open.
    expect(existsSync(join(d, "pw"))).toBe(true);
  });
});
