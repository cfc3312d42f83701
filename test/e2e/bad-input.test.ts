import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { tempDir, writeTestConfig } from "../helpers/env.ts";

// Issue 14, "Bad input": an empty value must never widen what a command does, and a config path that
// is not a file must say so. Each case is a usage/config error (exit 2) that changes nothing.
const dir = tempDir("kd-e2e-input-");
afterAll(() => dir.remove());
const config = writeTestConfig(join(dir.path, "cfg"));

describe("empty values are usage errors naming the flag", () => {
  test.each([
    [["backup", "--dry-run", "--config", config, "--unit", ""], "--unit needs a value"],
    [["backup", "--dry-run", "--config", config, "--unit="], "--unit needs a value"],
    [["backup", "--dry-run", "--config", config, "--unit", " "], "--unit needs a value"],
    [["backup", "--dry-run", "--config", config, "--unit", "a,"], "--unit has an empty name"],
    [["restore", "--config", config, "--unit", "x", "--latest", "--volume", ""], "--volume needs a value"],
    [["config", "show", "--config", ""], "--config needs a value"],
    [["config", "show", "--config"], "--config needs a value"],
    [["config", "show", "--config", "--json"], "--config needs a value"],
  ])("%j", async (argv, message) => {
    const r = await runCli(argv as string[], { timeoutMs: 60_000 });
    expect({ code: r.exitCode, stdout: r.stdout }).toEqual({ code: 2, stdout: "" });
    expect(r.stderr).toContain(message as string);
  });
});

describe("a config path that is not a config file", () => {
  test("a directory names the path and what is wrong", async () => {
    const d = join(dir.path, "a-dir");
    mkdirSync(d);
    const r = await runCli(["config", "show", "--config", d]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(d);
    expect(r.stderr).toContain("is a directory, not a config file");
    expect(r.stderr).not.toContain("EISDIR");
    expect(r.stderr).toContain(`${d}/config.toml`);
  });

  test("a newline in --config is refused before anything reads or writes it", async () => {
    const r = await runCli([
      "systemd",
      "install",
      "--dry-run",
      "--config",
      `${config}\nExecStartPre=/bin/sh`,
    ]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("control character");
    expect(r.stdout).not.toContain("ExecStartPre");
  });
});
