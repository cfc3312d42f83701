import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { tempKopia } from "../helpers/kopia.ts";
import { describeTree } from "../helpers/tree.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

// Restore points forged with kopia directly, as anyone holding the repository password could: a
// recipe and tags that name a host-internal path, climb out of `binds/` under --as, make the
// restore read a host file, start compose files that mount the host, or write into root's .ssh.
// Each restore refuses, and nothing on the host changes.
describeReal("restore: forged snapshot metadata is refused", ["docker", "kopia"], () => {
  const dir = tempDir("kd-forged-");
  const hostEtc = join(dir.path, "hostetc");
  const victim = join(dir.path, "victim");
  const secret = join(dir.path, "hostsecret");
  const config = writeTestConfig(
    join(dir.path, "cli"),
    `[backup]\nhost_internal_paths = ["${hostEtc}"]\n`,
  ).toString();
  const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
  const { kopia, repo, open } = tempKopia(join(dir.path, "forge"));
  const composeUnit = uniqueName("kdforged");
  const composeContainer = uniqueName("kdforged-app");
  const composeHome = join(dir.path, "forgedapp");
  const sshDir = join(dir.path, "home", ".ssh");
  const host = () => ({
    etc: describeTree(hostEtc),
    victim: describeTree(victim),
    secret: describeTree(secret),
  });
  let before: ReturnType<typeof host>;

  /** One forged snapshot of `content` (a dir or file) under kopi-docka's own source naming. */
  const forge = async (unit: string, type: string, content: string, extra: Record<string, string> = {}) => {
    await kopia.snapshotCreate(content, {
      overrideSource: `kopi-docka@kd-test-host:/kopi-docka/${unit}/${type}${extra.volume ? `/${extra.volume}` : ""}`,
      tags: {
        type,
        unit,
        backup_id: `forged-${unit}`,
        run_id: "forged",
        backup_scope: "standard",
        timestamp: "2026-01-01T00:00:00Z",
        backup_format: "direct",
        kopi_docka_version: "0.1.0",
        source_count: "2",
        ...extra,
      },
    });
  };
  const recipeDir = (unit: string, json: Record<string, unknown>) => {
    const d = join(dir.path, "recipes", unit);
    mkdirSync(join(d, "compose"), { recursive: true });
    writeFileSync(join(d, "unit.json"), JSON.stringify({ unit, type: "compose", ...json }));
    return d;
  };

  beforeAll(async () => {
    mkdirSync(hostEtc, { recursive: true });
    writeFileSync(join(hostEtc, "passwd"), "root:x:0:0\n");
    writeFileSync(join(hostEtc, "keep"), "keep\n");
    mkdirSync(victim, { recursive: true });
    writeFileSync(join(victim, "precious"), "precious\n");
    writeFileSync(secret, "host secret\n");
    const forgedData = join(dir.path, "forged-data");
    mkdirSync(forgedData, { recursive: true });
    writeFileSync(join(forgedData, "passwd"), "evil::0:0\n");
    await open();

    // 1. A bind "source" that is a host-internal path.
    const bind = { source: hostEtc, kind: "directory", targets: [] };
    await forge("forgedetc", "recipe", recipeDir("forgedetc", { bindMounts: [bind] }));
    await forge("forgedetc", "bind", forgedData, { bind_source: hostEtc });
    // 2. A bind source that climbs out of <target>/binds under --as (to <dir>/victim).
    await forge("forgedas", "recipe", recipeDir("forgedas", {}));
    await forge("forgedas", "bind", forgedData, { bind_source: "/../../../victim" });
    // 3. A stored compose file that points out of the recipe, at <dir>/hostsecret.
    const stored = { labelPath: "docker-compose.yml", stored: "../../../../hostsecret" };
    await forge("forgedstored", "recipe", recipeDir("forgedstored", { composeFiles: [stored] }), {
      source_count: "1",
    });
    // 4. A stored compose file that is a symlink to the host file.
    const linked = recipeDir("forgedlink", {
      composeFiles: [{ labelPath: "docker-compose.yml", stored: "compose/01-docker-compose.yml" }],
    });
    symlinkSync(secret, join(linked, "compose", "01-docker-compose.yml"));
    await forge("forgedlink", "recipe", linked, { source_count: "1" });

    // 5. A compose unit whose compose file mounts the host root and a host-internal path, privileged.
    const app = recipeDir(composeUnit, {
      workingDir: composeHome,
      composeFiles: [{ labelPath: "docker-compose.yml", stored: "compose/01-docker-compose.yml" }],
    });
    writeFileSync(
      join(app, "compose", "01-docker-compose.yml"),
      `services:\n  app:\n    image: ${TEST_IMAGE}\n    container_name: ${composeContainer}\n` +
        `    command: ["sleep", "600"]\n    privileged: true\n    volumes: ["/:/host:ro", "${hostEtc}:/hostetc:ro"]\n`,
    );
    await forge(composeUnit, "recipe", app, { source_count: "1" });
    // 6. A working dir in a user's .ssh, and a "compose file" named authorized_keys.
    const ssh = recipeDir("forgedssh", {
      workingDir: sshDir,
      composeFiles: [{ labelPath: "authorized_keys", stored: "compose/01-authorized_keys" }],
    });
    writeFileSync(join(ssh, "compose", "01-authorized_keys"), "ssh-ed25519 AAAA forged\n");
    await forge("forgedssh", "recipe", ssh, { source_count: "1" });

    const toml = readFileSync(config, "utf8")
      .replace(/^path = .*$/m, `path = "${repo.path}"`)
      .replace(/^password_file = .*$/m, `password_file = "${repo.password_file}"`);
    writeFileSync(config, toml);
    before = host();
  }, 120_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", composeContainer], { check: false });
    await run(["docker", "network", "rm", `${composeUnit}_default`], { check: false });
    dir.remove();
  });

  test("a bind target under backup.host_internal_paths: refused, also with --allow-path of its parent", async () => {
    const r = await cli("restore", "--unit", "forgedetc", "--latest", "--yes");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`bind mount ${hostEtc} is a host internal path`);
    expect(r.stderr).toContain(`--allow-path ${hostEtc}`);
    expect(host()).toEqual(before);
    const parent = await cli("restore", "--unit", "forgedetc", "--latest", "--yes", "--allow-path", dir.path);
    expect(parent.exitCode).toBe(2);
    expect(host()).toEqual(before);
  }, 120_000);

  test("a bind source that climbs out of binds/ under --as is never offered; the copy is refused", async () => {
    const r = await cli("restore", "--unit", "forgedas", "--latest", "--as", "forgedcopy", "--yes");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain("contains ..");
    expect(host()).toEqual(before);
    expect(existsSync(join(dir.path, "cli", "stacks", "forgedcopy", "binds"))).toBe(false);
  }, 120_000);

  test("a stored path that leaves the recipe is refused: no host file is read or copied", async () => {
    const r = await cli("restore", "--unit", "forgedstored", "--latest", "--yes");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("unit.json is refused");
    expect(existsSync(join(dir.path, "cli", "stacks", "forgedstored"))).toBe(false);
    expect(host()).toEqual(before);
  }, 120_000);

  test("a stored file that is a symlink in the recipe is never read", async () => {
    await cli("restore", "--unit", "forgedlink", "--latest", "--yes");
    const target = join(dir.path, "cli", "stacks", "forgedlink", "docker-compose.yml");
    expect(existsSync(target) ? readFileSync(target, "utf8") : "").not.toContain("host secret");
    expect(host()).toEqual(before);
  }, 120_000);

  test("--start of compose files that mount / and a host-internal path: refused, nothing started", async () => {
    const r = await cli("restore", "--unit", composeUnit, "--latest", "--yes", "--start");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('service app would use "/" (mount), that is /: the host root');
    expect(r.stderr).toContain(
      `service app would use "${hostEtc}" (mount), that is ${hostEtc}: host internal`,
    );
    // The plan (--dry-run) names what else the compose file asks for.
    const dry = await cli("restore", "--unit", composeUnit, "--latest", "--start", "--dry-run");
    expect(dry.stdout).toContain("warning: service app: runs privileged, as its compose file says");
    const ps = await run(["docker", "ps", "-aq", "--filter", `name=^${composeContainer}$`]);
    expect(ps.stdout.trim()).toBe("");
    expect(existsSync(composeHome)).toBe(false);
    expect(host()).toEqual(before);
  }, 120_000);

  test("a working dir in a .ssh directory and a compose file named authorized_keys: refused, nothing written", async () => {
    const r = await cli("restore", "--unit", "forgedssh", "--latest", "--yes");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`restores its compose files into ${sshDir}, a hidden directory`);
    expect(r.stderr).toContain("must end in .yml or .yaml");
    expect(existsSync(join(dir.path, "home"))).toBe(false);
    expect(host()).toEqual(before);
  }, 120_000);

  test("--allow-path with that exact path is the person's confirmation: then it is restored", async () => {
    const r = await cli("restore", "--unit", "forgedetc", "--latest", "--yes", "--allow-path", hostEtc);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(hostEtc, "passwd"), "utf8")).toBe("evil::0:0\n");
    expect(existsSync(join(hostEtc, "keep"))).toBe(false);
  }, 120_000);
});
