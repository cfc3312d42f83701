import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { hostVariant } from "../helpers/release.ts";

const repo = join(import.meta.dir, "..", "..");

// The one file on a server without kopia and without network: the full binary backs up and restores a
// container's volume with the kopia inside it, extracted on first use, under `unshare -n` (a network
// namespace with nothing but loopback) and a PATH that holds docker and no kopia.
describeReal(
  "the full binary: backup and restore with no kopia on PATH and no network",
  ["docker", "image"],
  () => {
    const dir = tempDir("kdt-full-");
    const name = uniqueName("kdt-full");
    const volume = `${name}-v`;
    const kd = join(dir.path, "kd");
    const config = writeTestConfig(kd, "[backup]\nstop_timeout = 2\n");
    const full = join(dir.path, "dist", `kopi-docka-linux-${hostVariant()}-full`);
    const pathDir = join(dir.path, "path");
    const env = { PATH: `${pathDir}:/usr/bin:/bin`, NO_COLOR: "1", CI: "true", KOPI_DOCKA_CONFIG: "" };
    const kopiDocka = (...args: string[]) =>
      run(["unshare", "-n", full, ...args, "--config", config], { check: false, env, timeoutMs: 300_000 });
    const sum = async () =>
      (await run(["docker", "exec", name, "sha256sum", "/data/blob"])).stdout.split(" ")[0] ?? "";
    let original = "";

    beforeAll(async () => {
      const target = `bun-linux-${hostVariant()}`;
      const b = Bun.spawnSync(
        [process.execPath, "run", "build.ts", "--full", "--out", join(dir.path, "dist"), target],
        {
          cwd: repo,
        },
      );
      if (!b.success) throw new Error(`build.ts --full failed: ${b.stderr.toString()}`);
      mkdirSync(pathDir);
      symlinkSync(Bun.which("docker") ?? "/usr/bin/docker", join(pathDir, "docker"));
      await startContainer(name, volume);
      await run(["docker", "exec", name, "sh", "-c", "head -c 3000000 /dev/urandom > /data/blob"]);
      original = await sum();
    }, 600_000);

    afterAll(async () => {
      await run(["docker", "rm", "-f", name], { check: false });
      await run(["docker", "volume", "rm", "-f", volume], { check: false });
      dir.remove();
    }, 60_000);

    test("PATH here has docker and no kopia, and the namespace has no network", async () => {
      const ip = Bun.which("ip", { PATH: "/usr/sbin:/sbin:/usr/bin:/bin" }) ?? "ip";
      const probe = `command -v kopia; command -v docker; ${ip} -o link show`;
      const r = await run(["unshare", "-n", "sh", "-c", probe], { check: false, env });
      expect(r.stdout).not.toContain("kopia");
      expect(r.stdout).toContain(join(pathDir, "docker"));
      const links = r.stdout.trim().split("\n").slice(1);
      expect(links).toHaveLength(1); // loopback only (and down): no route anywhere
      expect(links[0]).toMatch(/^1: lo: /);
    });

    test("backup extracts the embedded kopia (0755, checksummed) and uses it", async () => {
      const r = await kopiDocka("backup", "--unit", name);
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      const kopia = join(kd, "state", "bin", "kopia-0.23.1");
      expect(statSync(kopia).mode & 0o777).toBe(0o755);
      const v = JSON.parse((await kopiDocka("version", "--json")).stdout);
      expect(v).toMatchObject({
        kopia: "0.23.1",
        kopiaSource: "embedded",
        kopiaPath: kopia,
        kopiaEmbedded: "0.23.1",
      });
    });

    test("setup --yes passes its dependency step and creates the repository with the kopia inside", async () => {
      const s = join(dir.path, "setup");
      const r = await run(
        [
          ...["unshare", "-n", full, "setup", "--config", join(s, "config.toml")],
          ...["--repository-path", join(s, "repo"), "--password-file", join(s, "pw"), "--generate-password"],
          ...[
            "--state-dir",
            join(s, "state"),
            "--cache-dir",
            join(s, "cache"),
            "--lock-file",
            join(s, "kd.lock"),
          ],
          ...["--restore-dir", join(s, "stacks"), "--no-schedule", "--yes"],
        ],
        { check: false, env, timeoutMs: 300_000 },
      );
      // Before: "kopia is not installed" (only PATH was asked), exit 14, nothing written.
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      const kopia = join(s, "state", "bin", "kopia-0.23.1");
      expect(r.stderr).toContain(`kopia 0.23.1 (embedded: ${kopia})`);
      expect(statSync(join(s, "repo", "kopia.repository.f")).isFile()).toBe(true);
      expect(statSync(kopia).mode & 0o777).toBe(0o755);
    });

    test("restore brings the volume back byte for byte, read from inside the restored container", async () => {
      await run(["docker", "rm", "-f", name]);
      await run(["docker", "volume", "rm", volume]);
      const r = await kopiDocka("restore", "--unit", name, "--latest", "--start", "--yes");
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      expect(await sum()).toBe(original);
    });
  },
);
