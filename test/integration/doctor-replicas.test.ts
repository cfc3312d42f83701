import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Check } from "../../src/core/doctor.ts";
import { runCli } from "../helpers/cli.ts";
import { describeReal, tempDir, writeTestConfig } from "../helpers/env.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

// A filesystem primary with two filesystem replicas (the cheapest real locations): "usb" synced by
// hand, "spare" never. doctor opens the synced one with real kopia, and finds it gone once its disk is.
describeReal("doctor: one line per replica", ["kopia"], () => {
  const dir = tempDir("kdt-s22-doctor-replicas-");
  const usb = join(dir.path, "usb", "kopia");
  const spare = join(dir.path, "spare");
  let config = "";
  const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
  const replicaLines = async () => {
    const r = await cli("doctor", "--json");
    // Other checks may fail here (no backup timer, not root): the replica lines are the ones looked at.
    expect(r.stdout).not.toBe("");
    return (JSON.parse(r.stdout).checks as Check[]).filter((c) => c.id === "replica");
  };

  beforeAll(async () => {
    mkdirSync(usb, { recursive: true });
    mkdirSync(spare, { recursive: true });
    config = writeTestConfig(
      dir.path,
      `\n[[replicas]]\nname = "usb"\nbackend = "filesystem"\npath = "${usb}"\n` +
        `\n[[replicas]]\nname = "spare"\nbackend = "filesystem"\npath = "${spare}"\n`,
    );
    const init = await cli("repo", "init");
    expect({ exit: init.exitCode, stderr: init.stderr }).toMatchObject({ exit: 0 });
    const sync = await cli("repo", "sync", "--replica", "usb");
    expect({ exit: sync.exitCode, stderr: sync.stderr }).toMatchObject({ exit: 0 });
  }, 120_000);

  afterAll(() => dir.remove());

  test("a synced replica is ok (real kopia opened it); one never synced warns with what to run; nothing written", async () => {
    const [usbLine, spareLine] = await replicaLines();
    expect(usbLine).toMatchObject({ status: "ok" });
    expect(usbLine?.detail).toMatch(
      /^usb at .*opens with the configured credentials and password; last copy on record/,
    );
    expect(spareLine).toMatchObject({
      status: "warn",
      hint: expect.stringContaining("repo sync --replica spare"),
    });
    expect(readdirSync(spare)).toEqual([]);
    expect(existsSync(join(dir.path, "state", "replicas", "spare"))).toBe(false);
    expect(existsSync(join(dir.path, "state", "kopia", "replica-usb.config"))).toBe(false);
  }, 120_000);

  test("the synced replica's disk gone: a failed line as the next sync would say it, exit 1, nothing made there", async () => {
    rmSync(join(dir.path, "usb"), { recursive: true });
    const r = await cli("doctor", "--json");
    expect(r.exitCode).toBe(1);
    const usbLine = (JSON.parse(r.stdout).checks as Check[]).find((c) => c.id === "replica");
    expect(usbLine).toMatchObject({ status: "fail" });
    expect(usbLine?.detail).toContain("no longer holds the copy made there before: is the disk mounted?");
    expect(existsSync(join(dir.path, "usb"))).toBe(false);
    const text = await cli("doctor");
    expect(text.stdout).toMatch(/replica\s+fail\s+replica usb at /);
  }, 120_000);
});
