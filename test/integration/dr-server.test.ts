import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliArgv, runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { type KopiaServer, kopiaServer } from "../helpers/servers.ts";

/**
 * A repository server's bundle, recovered on a host with another name: the old host (its own name in
 * a UTS namespace, `[repository] hostname` empty, as setup writes it) backs up through `kopia server`
 * as kopi-docka@<old>, the only user the server knows; on a wiped host named differently
 * `recover.sh --restore-all` brings the unit back, bytes checked inside the container, and `dr drill`
 * there passes too: both run the bundle's config, which pins the old name.
 */
describeReal(
  "dr bundle of a repository server, on a host with another name",
  ["docker", "kopia", "image"],
  () => {
    const dir = tempDir("kdt-drsrv-");
    const kd = join(dir.path, "kd");
    const name = uniqueName("kdtdrsrv");
    const suffix = name.split("-").slice(1).join("-");
    const oldHost = `kdtold-${suffix}`;
    const newHost = `kdtnew-${suffix}`;
    const passFile = join(dir.path, "passphrase");
    const bundle = join(dir.path, "srv.age");
    const opened = join(dir.path, "opened");
    let server: KopiaServer | undefined;
    let config = "";
    let digest = "";
    /** argv prefix that runs the rest as on a machine named `host`. */
    const asHost = (host: string) => ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', host];
    const cli = (host: string, ...args: string[]) =>
      runCli([...args, "--config", config], { wrap: asHost(host) });
    const inContainer = async (cmd: string) =>
      (await run(["docker", "exec", name, "sh", "-c", cmd])).stdout.trim();

    beforeAll(async () => {
      const password = `pw-${crypto.randomUUID()}`;
      server = await kopiaServer(join(dir.path, "server"));
      await server.addUser(`kopi-docka@${oldHost}`, password);
      await server.start();
      config = writeTestConfig(kd);
      const text = readFileSync(config, "utf8")
        .replace(
          `path = "${kd}/repository"\n`,
          `backend = "server"\nurl = "${server.url}"\nserver_cert_fingerprint = "${server.fingerprint}"\n`,
        )
        .replace('hostname = "kd-test-host"', 'hostname = ""');
      writeFileSync(config, text);
      writeFileSync(join(kd, "repository.password"), `${password}\n`, { mode: 0o600 });
      writeFileSync(passFile, `pp-${crypto.randomUUID()}\n`, { mode: 0o600 });
      expect((await cli(oldHost, "repo", "init")).exitCode).toBe(0);
      await startContainer(name, `${name}-v`);
      await inContainer("head -c 1000000 /dev/urandom > /data/blob");
      digest = await inContainer("sha256sum /data/blob");
      expect((await cli(oldHost, "backup", "--unit", name)).exitCode).toBe(0);
      const exported = await runCli(
        ["dr", "export", "--config", config, "--output", bundle, "--passphrase-file", passFile],
        { wrap: asHost(oldHost) },
      );
      expect(exported.exitCode).toBe(0);
      expect(exported.stdout).toContain(`pins it to "${oldHost}"`);
      const o = await runCli(["dr", "open", bundle, "--to", opened, "--passphrase-file", passFile]);
      expect(o.exitCode).toBe(0);
    }, 240_000);

    afterAll(async () => {
      await run(["docker", "rm", "-f", name], { check: false });
      await run(["docker", "volume", "rm", "-f", `${name}-v`], { check: false });
      await server?.stop();
      dir.remove();
    }, 60_000);

    test("dr drill on the new host passes", async () => {
      const r = await runCli(["dr", "drill", bundle, "--passphrase-file", passFile], {
        wrap: asHost(newHost),
      });
      expect(r.stdout).toContain(`as ${oldHost}`);
      expect(r.stdout).toContain("drill passed");
      expect(r.exitCode).toBe(0);
    }, 300_000);

    test("recover.sh --restore-all on a wiped host with another name brings the unit back", async () => {
      await run(["docker", "rm", "-f", name]);
      await run(["docker", "volume", "rm", `${name}-v`]);
      for (const p of ["config.toml", "repository.password", "state", "cache"])
        rmSync(join(kd, p), { recursive: true, force: true });
      const bin = join(dir.path, "bin");
      mkdirSync(bin);
      const self = cliArgv()
        .map((a) => `'${a}'`)
        .join(" ");
      writeFileSync(join(bin, "kopi-docka"), `#!/bin/sh\nexec ${self} "$@"\n`);
      chmodSync(join(bin, "kopi-docka"), 0o755);
      const r = await run([...asHost(newHost), "sh", "recover.sh", "--restore-all"], {
        cwd: opened,
        check: false,
        env: { PATH: `${bin}:${process.env.PATH}`, CI: "true", NO_COLOR: "1" },
        timeoutMs: 300_000,
      });
      expect({ exit: r.exitCode, stderr: r.stderr.slice(-2000) }).toMatchObject({ exit: 0 });
      expect(readFileSync(config, "utf8")).toContain(`hostname = "${oldHost}"`);
      expect(await inContainer("sha256sum /data/blob")).toBe(digest);
    }, 300_000);
  },
);
