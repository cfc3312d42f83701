import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { removeDockerObjects } from "../helpers/cleanup.ts";
import { cliWith, runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

/**
 * kopia's defaults skip what the data asks to skip (a `.kopiaignore`, a directory with `CACHEDIR.TAG`).
 * A container writes its own volume: it must not decide what a backup holds, nor what an undo point
 * keeps before a restore removes it.
 */
describeReal("the data never decides what is backed up or kept", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-whole-");
  const name = uniqueName("kdtwhole");
  const volume = `${name}-data`;
  const config = writeTestConfig(join(dir.path, "kd"));
  const { cli } = cliWith(config);
  const sh = async (cmd: string) => (await run(["docker", "exec", name, "sh", "-c", cmd])).stdout;
  const seen = () => sh("cd /data && cat secret.db && ls -A cache && cat cache/blob 2>/dev/null || true");
  const ok = (r: { exitCode: number | null; stderr: string }) => ({
    exit: r.exitCode,
    stderr: r.exitCode ? r.stderr : "",
  });

  beforeAll(async () => {
    await run(["docker", "volume", "create", volume]);
    await startContainer(name, volume);
    await sh(
      "cd /data && printf 'secret.db\\n' > .kopiaignore && echo v1 > secret.db && mkdir cache && " +
        "printf 'Signature: 8a477f597d28d172789f06886806bc55\\n' > cache/CACHEDIR.TAG && echo blob > cache/blob",
    );
  });

  afterAll(async () => {
    await removeDockerObjects([name], [volume]);
    dir.remove();
  });

  test("a backup holds the files a .kopiaignore or CACHEDIR.TAG names; the undo point holds what a restore replaced", async () => {
    const atBackup = await seen();
    expect(atBackup).toBe("v1\nCACHEDIR.TAG\nblob\nblob\n");
    expect(ok(await cli("backup", "--unit", name))).toEqual({ exit: 0, stderr: "" });

    await sh("cd /data && echo v2 > secret.db && rm cache/blob");
    const afterwards = await seen();
    const r = await cli("restore", "--unit", name, "--latest", "--yes", "--json");
    expect(ok(r)).toEqual({ exit: 0, stderr: "" });
    expect(await seen()).toBe(atBackup);

    // The undo point brings back the state before the restore, the ignored file's newer content too.
    const undo = JSON.parse(r.stdout).undoPoint as string;
    expect(undo).toStartWith(`${name}@`);
    expect(ok(await cli("restore", "--unit", name, "--run", undo, "--yes"))).toEqual({ exit: 0, stderr: "" });
    expect(await seen()).toBe(afterwards);
    expect(afterwards).toBe("v2\nCACHEDIR.TAG\n");
  }, 300_000);

  test("a global policy's size limit or ignore rule (someone else's, on a shared repository) does not apply either", async () => {
    // `--config` before `--`: everything after it is kopia's.
    const kopia = (...a: string[]) => runCli(["kopia", "--config", config, "--", ...a]);
    expect(ok(await kopia("policy", "set", "--global", "--max-file-size=3", "--add-ignore=*.db"))).toEqual({
      exit: 0,
      stderr: "",
    });
    try {
      await sh("echo 'version three' > /data/secret.db");
      expect(ok(await cli("backup", "--unit", name))).toEqual({ exit: 0, stderr: "" });
      await sh("echo gone > /data/secret.db");
      expect(ok(await cli("restore", "--unit", name, "--latest", "--yes"))).toEqual({ exit: 0, stderr: "" });
      expect(await sh("cat /data/secret.db")).toBe("version three\n");
    } finally {
      await kopia("policy", "set", "--global", "--max-file-size=0", "--remove-ignore=*.db");
    }
  }, 300_000);
});
