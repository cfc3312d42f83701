import { describe, expect, test } from "bun:test";
import { EXIT_CODES, exitCodeFor } from "../../../src/cli.ts";
import {
  AppError,
  ConfigError,
  InterruptedError,
  ProcessError,
  UsageError,
} from "../../../src/core/errors.ts";

describe("error to exit code", () => {
  test.each([
    [new UsageError("x"), 2],
    [new ConfigError("/f", [{ key: "a", message: "b" }]), 2],
    [new ProcessError({ argv: ["kopia"], exitCode: 1, signal: null, stderrTail: "" }), 1],
    [new AppError("partial_failure", "x"), 3],
    [new AppError("restart_failed", "x"), 4],
    [new AppError("repository", "x"), 10],
    [new AppError("locked", "x"), 11],
    [new AppError("repository_auth", "x"), 12],
    [new AppError("not_root", "x"), 13],
    [new AppError("dependency_missing", "x"), 14],
    [new InterruptedError("SIGINT"), 130],
    [new InterruptedError("SIGTERM"), 143],
    [new InterruptedError("SIGHUP"), 129],
    [new Error("a bug"), 1],
    ["a thrown string", 1],
  ] as const)("%p → %p", (error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  test("every error code has an exit code, and codes never collide with success", () => {
    for (const [code, exit] of Object.entries(EXIT_CODES)) {
      expect(exit, code).toBeGreaterThan(0);
    }
  });

  test("a ConfigError message names file, line and key", () => {
    const e = new ConfigError("/etc/kopi-docka/config.toml", [
      { key: "retention.daily", message: "must be at least 0", line: 7 },
    ]);
    expect(e.message).toContain("/etc/kopi-docka/config.toml:7: retention.daily: must be at least 0");
  });
});
