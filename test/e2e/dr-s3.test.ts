import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, cliArgv, runCli } from "../helpers/cli.ts";
import { exportBundle, hasAge, openBundle, recoverAll } from "../helpers/dr.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { serversAvailable, startS3, type TestServer } from "../helpers/servers.ts";
import { hasTmux } from "../helpers/terminal.ts";

/**
 * The DR bundle of a repository on the S3-compatible test server (moto on 127.0.0.1): Debian's `age`
 * opens it and every connection parameter is inside (bucket, prefix, endpoint, both key files); on a
 * wiped host (config, password, key files, state and kopia config gone, container and volume deleted)
 * the bundle alone brings the unit back, bytes checked from inside the container; `dr drill` passes.
 */
const compiled = cliArgv()[0] === BINARY;
const ready = compiled && hasAge && hasTmux && serversAvailable.moto;
if (process.env.CI && !ready) {
  test("the compiled binary, age, tmux and moto_server exist (bun run build.ts; scripts/test-env.sh)", () => {
    throw new Error(`compiled=${compiled} age=${hasAge} tmux=${hasTmux} moto=${serversAvailable.moto}`);
  });
}

describeReal("dr bundle of an S3 repository on the compiled binary", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-e2e-drs3-");
  const kd = join(dir.path, "kd");
  const keyIdFile = join(kd, "s3.key-id");
  const secretFile = join(kd, "s3.secret");
  const keyId = `AKID${crypto.randomUUID().slice(0, 8)}`;
  const secret = `s3-${crypto.randomUUID()}`;
  const passphrase = `pp-${crypto.randomUUID()}`;
  const passFile = join(dir.path, "passphrase");
  const bundle = join(dir.path, "s3.age");
  const opened = join(dir.path, "opened");
  const name = uniqueName("kdtdrs3");
  let s3: TestServer | undefined;
  let config = "";
  let digest = "";

  const inContainer = async (cmd: string) =>
    (await run(["docker", "exec", name, "sh", "-c", cmd])).stdout.trim();

  beforeAll(async () => {
    if (!ready) return;
    mkdirSync(kd, { recursive: true });
    s3 = await startS3(dir.path, ["kdt-dr"]);
    writeFileSync(keyIdFile, `${keyId}\n`, { mode: 0o600 });
    writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
    config = writeTestConfig(kd);
    const text = readFileSync(config, "utf8").replace(
      `path = "${kd}/repository"\n`,
      `backend = "s3"\nbucket = "kdt-dr"\nprefix = "host1/"\nendpoint = "127.0.0.1:${s3.port}"\ntls = false\n` +
        `access_key_id_file = "${keyIdFile}"\nsecret_access_key_file = "${secretFile}"\n`,
    );
    writeFileSync(config, text);
    writeFileSync(join(kd, "repository.password"), `pw-${crypto.randomUUID()}\n`, { mode: 0o600 });
    writeFileSync(passFile, `${passphrase}\n`, { mode: 0o600 });
    expect((await runCli(["repo", "init", "--config", config])).exitCode).toBe(0);
    await startContainer(name, `${name}-v`);
    await inContainer("head -c 2000000 /dev/urandom > /data/blob");
    digest = await inContainer("sha256sum /data/blob");
    expect((await runCli(["backup", "--config", config, "--unit", name])).exitCode).toBe(0);
    const r = await exportBundle(config, bundle, passFile);
    expect(r.exitCode).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(secret);
  }, 240_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", `${name}-v`], { check: false });
    await s3?.stop();
    dir.remove();
  }, 60_000);

  describe.skipIf(!ready)("the bundle", () => {
    test("age opens it; bucket, prefix, endpoint and both key files are inside", async () => {
      await openBundle(bundle, passphrase, opened);
      const b = (p: string) => readFileSync(join(opened, "kopi-docka-dr", p), "utf8");
      const manifest = JSON.parse(b("manifest.json"));
      expect(manifest.files.map((f: { key: string }) => f.key)).toEqual([
        "repository.access_key_id_file",
        "repository.secret_access_key_file",
      ]);
      expect(b("secrets/files/01-s3.key-id").trim()).toBe(keyId);
      expect(b("secrets/files/02-s3.secret").trim()).toBe(secret);
      const storage = JSON.parse(b("repository-status.json")).storage;
      expect(storage.type).toBe("s3");
      expect(storage.config).toMatchObject({
        bucket: "kdt-dr",
        prefix: "host1/",
        endpoint: `127.0.0.1:${s3?.port}`,
      });
      expect(b("config.toml")).toContain('bucket = "kdt-dr"');
    }, 60_000);

    test("dr drill passes against the S3 repository", async () => {
      const r = await runCli(["dr", "drill", bundle, "--passphrase-file", passFile]);
      expect(r.stdout).toContain("drill passed");
      expect(r.exitCode).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(secret);
    }, 300_000);

    test("on a wiped host the bundle and its passphrase alone bring the unit back", async () => {
      await run(["docker", "rm", "-f", name]);
      await run(["docker", "volume", "rm", `${name}-v`]);
      for (const p of ["config.toml", "repository.password", "s3.key-id", "s3.secret", "state", "cache"])
        rmSync(join(kd, p), { recursive: true, force: true });
      const r = await recoverAll(opened, dir.path);
      expect(r.exitCode).toBe(0);
      expect(readFileSync(secretFile, "utf8").trim()).toBe(secret);
      expect(await inContainer("sha256sum /data/blob")).toBe(digest);
    }, 300_000);
  });
});
