import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseKopia } from "../../../../src/core/kopia/binary.ts";
import { extractEmbeddedKopia } from "../../../../src/core/kopia/embedded.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "kd-kopia-bin-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const body = new TextEncoder().encode("#!/bin/sh\necho 'v0.23.1 build: x'\n");
const sum = createHash("sha256").update(body).digest("hex");
const embedded = { version: "0.23.1", sha256: sum };
const versionSays = (command: string, stdout: string, exitCode = 0) => ({
  argv: [command, "--version"],
  stdout,
  exitCode,
});

describe("chooseKopia", () => {
  const extract = async (stateDir: string) => join(stateDir, "bin", "kopia-0.23.1");

  test("auto takes a new-enough kopia from PATH, even in a full build", async () => {
    const runner = new FakeRunner([versionSays("kopia", "0.22.0 build: abc\n")]);
    const c = await chooseKopia("auto", {
      runner,
      stateDir: "/s",
      embedded,
      which: () => "/usr/bin/kopia",
      extract,
    });
    expect(c).toMatchObject({ command: "kopia", path: "/usr/bin/kopia", version: "0.22.0", source: "path" });
  });

  test("auto falls back to the embedded kopia when PATH has none or an old one", async () => {
    const none = await chooseKopia("auto", {
      runner: new FakeRunner(),
      stateDir: "/s",
      embedded,
      which: () => null,
      extract,
    });
    expect(none).toMatchObject({ command: "/s/bin/kopia-0.23.1", source: "embedded", version: "0.23.1" });
    const old = await chooseKopia("auto", {
      runner: new FakeRunner([versionSays("kopia", "0.17.0 build: x\n")]),
      stateDir: "/s",
      embedded,
      which: () => "/usr/bin/kopia",
      extract,
    });
    expect(old.source).toBe("embedded");
  });

  test("auto in a slim build with no kopia reports it missing", async () => {
    const c = await chooseKopia("auto", { runner: new FakeRunner(), stateDir: "/s", which: () => null });
    expect(c).toMatchObject({ command: "kopia", path: null, version: null, source: "missing" });
  });

  test("path never uses the embedded one; embedded never looks at PATH", async () => {
    const p = await chooseKopia("path", {
      runner: new FakeRunner([versionSays("kopia", "0.17.0 build: x\n")]),
      stateDir: "/s",
      embedded,
      which: () => "/usr/bin/kopia",
      extract,
    });
    expect(p).toMatchObject({ source: "path", version: "0.17.0" });
    const e = await chooseKopia("embedded", {
      runner: new FakeRunner(),
      stateDir: "/s",
      embedded,
      which: () => "/x",
      extract,
    });
    expect(e.source).toBe("embedded");
  });

  test("embedded in a slim build is an error that names the full build", async () => {
    const p = chooseKopia("embedded", { runner: new FakeRunner(), stateDir: "/s", which: () => null });
    await expect(p).rejects.toThrow(/no kopia inside/);
  });

  test("an absolute path is used as configured", async () => {
    const runner = new FakeRunner([versionSays("/opt/kopia", "0.23.1 build: x\n")]);
    const c = await chooseKopia("/opt/kopia", { runner, stateDir: "/s", which: () => null });
    expect(c).toMatchObject({ command: "/opt/kopia", source: "configured", version: "0.23.1" });
  });
});

describe("extractEmbeddedKopia", () => {
  test("writes <state>/bin/kopia-<version> 0755 with its LICENSE, no temp file left", async () => {
    const state = scratch();
    const path = await extractEmbeddedKopia(state, embedded, {
      kopia: new Blob([body]),
      license: new Blob(["L"]),
    });
    expect(path).toBe(join(state, "bin", "kopia-0.23.1"));
    expect(statSync(path).mode & 0o777).toBe(0o755);
    expect(readFileSync(`${path}.LICENSE`, "utf8")).toBe("L");
    expect(readdirSync(join(state, "bin")).sort()).toEqual([
      "kopia-0.23.1",
      "kopia-0.23.1.LICENSE",
      "kopia-0.23.1.verified",
    ]);
  });

  test("replaces a changed file, and refuses content whose checksum is wrong", async () => {
    const state = scratch();
    const path = await extractEmbeddedKopia(state, embedded, { kopia: new Blob([body]) });
    writeFileSync(path, "tampered");
    await extractEmbeddedKopia(state, embedded, { kopia: new Blob([body]) });
    expect(readFileSync(path)).toEqual(Buffer.from(body));
    // Same size, new bytes: the stat differs from the stamp, so it is hashed and replaced.
    const same = Buffer.from(body);
    same[0] = 0x23 ^ 0xff;
    writeFileSync(path, same);
    await extractEmbeddedKopia(state, embedded, { kopia: new Blob([body]) });
    expect(readFileSync(path)).toEqual(Buffer.from(body));

    const other = scratch();
    const bad = extractEmbeddedKopia(other, embedded, { kopia: new Blob(["not kopia"]) });
    await expect(bad).rejects.toThrow(/checksum is wrong/);
    expect(existsSync(join(other, "bin", "kopia-0.23.1"))).toBe(false);
    expect(readdirSync(join(other, "bin"))).toEqual([]);
  });
});
