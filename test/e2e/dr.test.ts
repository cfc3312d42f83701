import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, cliArgv, runCli } from "../helpers/cli.ts";
import { exportBundle, hasAge, openBundle, recoverAll } from "../helpers/dr.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { sampleCommandLines } from "../helpers/processes.ts";
import { hasTmux, terminal } from "../helpers/terminal.ts";

/**
 * The disaster-recovery bundle, end to end on the compiled binary and a real filesystem repository:
 * Debian's `age` (not our code) opens it; on a wiped host (config, password, credentials, state and
 * kopia config gone, container and volume deleted) the bundle and its passphrase alone bring the unit
 * back, bytes checked from inside the container; `dr drill` passes on a good bundle and fails, naming
 * the step, on a wrong passphrase, a rotated repository password and deleted pack blobs.
 */
const compiled = cliArgv()[0] === BINARY;
if (process.env.CI && (!compiled || !hasAge || !hasTmux)) {
  test("the compiled binary, age and tmux exist (bun run build.ts; scripts/test-env.sh)", () => {
    throw new Error(`compiled=${compiled} age=${hasAge} tmux=${hasTmux}`);
  });
}

/** Every file under `dir` whose bytes contain `secret`, except the ones listed. */
function filesHolding(dir: string, secret: string, except: string[] = []): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !except.includes(p) && readFileSync(p).includes(secret)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}

describeReal("dr export and drill on the compiled binary", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-e2e-dr-");
  const kd = join(dir.path, "kd");
  const caFile = join(kd, "ca.pem");
  const config = writeTestConfig(kd, `\n[alerts]\nca_file = "${caFile}"\n`);
  const name = uniqueName("kdtdr");
  const volume = `${name}-data`;
  const passFile = join(dir.path, "passphrase");
  const passphrase = `pp-${crypto.randomUUID()}`;
  const bundle = join(dir.path, "out", "host.age");
  const opened = join(dir.path, "opened");
  const ca = `-----BEGIN CERTIFICATE-----\n${crypto.randomUUID()}\n-----END CERTIFICATE-----\n`;
  let digest = "";
  let password = "";
  let configText = "";
  let exportRun: Awaited<ReturnType<typeof runCli>>;
  let exportArgv: string[] = [];

  const inContainer = async (cmd: string) =>
    (await run(["docker", "exec", name, "sh", "-c", cmd])).stdout.trim();

  beforeAll(async () => {
    if (!compiled) return;
    writeFileSync(caFile, ca, { mode: 0o600 });
    writeFileSync(passFile, `${passphrase}\n`, { mode: 0o600 });
    mkdirSync(join(dir.path, "out"));
    await startContainer(name, volume);
    await inContainer("head -c 3000000 /dev/urandom > /data/blob && echo fixed > /data/note");
    digest = await inContainer("sha256sum /data/blob /data/note");
    const backup = await runCli(["backup", "--config", config, "--unit", name]);
    expect(backup.exitCode).toBe(0);
    password = readFileSync(join(kd, "repository.password"), "utf8").trim();
    configText = readFileSync(config, "utf8");
    const pending = exportBundle(config, bundle, passFile);
    [exportRun, exportArgv] = await Promise.all([pending, sampleCommandLines(pending)]);
  }, 240_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  describe.skipIf(!compiled || !hasAge || !hasTmux)("the bundle", () => {
    test("export writes a 0600 bundle and a .txt that says how to open it; no secret in argv or output", () => {
      expect(exportRun.exitCode).toBe(0);
      expect(readFileSync(bundle).subarray(0, 21).toString()).toBe("age-encryption.org/v1");
      expect(Bun.spawnSync(["stat", "-c", "%a", bundle]).stdout.toString().trim()).toBe("600");
      const txt = readFileSync(`${bundle}.txt`, "utf8");
      expect(txt).toContain("age -d host.age | tar -xf -");
      expect(exportRun.stdout).toContain("age -d host.age | tar -xf -");
      for (const secret of [passphrase, password]) {
        expect(exportArgv.filter((l) => l.includes(secret))).toEqual([]);
        expect(exportRun.stdout + exportRun.stderr + txt).not.toContain(secret);
      }
    });

    test("--output - writes the bundle to stdout and the opening instructions to stderr", async () => {
      const r = await exportBundle(config, "-", passFile);
      expect(r.exitCode).toBe(0);
      expect(r.stdout.startsWith("age-encryption.org/v1\n")).toBe(true);
      expect(r.stderr).toContain("| tar -xf -");
    }, 120_000);

    test("a generated passphrase is shown once on the terminal and written nowhere; without one, refused", async () => {
      rmSync(join(dir.path, "out2"), { recursive: true, force: true });
      mkdirSync(join(dir.path, "out2"));
      const out = join(dir.path, "out2", "gen.age");
      // No terminal on stderr (a timer, a pipe into a log): nothing is generated, nothing written.
      const refused = await runCli(["dr", "export", "--config", config, "--output", out]);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain("a generated passphrase is shown once on a terminal");
      expect(refused.stderr).toContain("--passphrase-file");
      expect(existsSync(out)).toBe(false);
      const t = terminal(uniqueName("kdtdrgen"));
      try {
        await t.start(`${BINARY} dr export --config ${config} --output ${out}`);
        const screen = await t.waitFor("EXIT=");
        expect(screen).toContain("EXIT=0");
        const shown = /\n {4}([a-z2-9]{5}(?:-[a-z2-9]{5}){7})\n/.exec(screen)?.[1];
        expect(shown).toBeDefined();
        expect(filesHolding(dir.path, shown ?? "?")).toEqual([]);
      } finally {
        await t.kill();
      }
    }, 120_000);

    test("Debian's age opens it with the passphrase; tar unpacks every part", async () => {
      await openBundle(bundle, passphrase, opened);
      const b = (p: string) => readFileSync(join(opened, "kopi-docka-dr", p), "utf8");
      expect(b("config.toml")).toBe(configText);
      expect(b("secrets/repository.password").trim()).toBe(password);
      const manifest = JSON.parse(b("manifest.json"));
      expect(manifest.files).toEqual([
        { key: "alerts.ca_file", path: caFile, stored: "secrets/files/01-ca.pem" },
      ]);
      expect(b("secrets/files/01-ca.pem")).toBe(ca);
      const units = JSON.parse(b("units.json"));
      expect(units.map((u: { unit: string }) => u.unit)).toEqual([name]);
      expect(units[0].volumes).toEqual([volume]);
      expect(JSON.parse(b("repository-status.json")).storage.type).toBe("filesystem");
      expect(readdirSync(join(opened, "kopi-docka-dr", "runs"))).toHaveLength(1);
      expect(b("README.txt")).toContain(`--from-host kd-test-host --unit <UNIT> --latest --start`);
      expect(
        (await run(["sha256sum", "-c", "SHA256SUMS"], { cwd: join(opened, "kopi-docka-dr") })).exitCode,
      ).toBe(0);
      expect((await run(["sh", "-n", "recover.sh"], { cwd: join(opened, "kopi-docka-dr") })).exitCode).toBe(
        0,
      );
    }, 60_000);

    test("dr drill passes on the good bundle and leaves nothing behind", async () => {
      const pending = runCli(["dr", "drill", bundle, "--passphrase-file", passFile]);
      const [r, argv] = await Promise.all([pending, sampleCommandLines(pending)]);
      expect(r.exitCode).toBe(0);
      for (const step of ["decrypt", "connect read-only", "restore points", "verify sample"])
        expect(r.stdout).toMatch(new RegExp(`PASS +${step}`));
      expect(r.stdout).toMatch(/PASS +containers up +running: kddrill\w+_/);
      expect(r.stdout).toContain(`drill passed`);
      expect(argv.filter((l) => l.includes(password) || l.includes(passphrase))).toEqual([]);
      expect(r.stdout + r.stderr).not.toContain(password);
      const left = await run([
        "sh",
        "-c",
        "docker ps -a --format '{{.Names}}'; docker volume ls -q; docker network ls",
      ]);
      const copy = /kddrill\w+/.exec(r.stdout)?.[0] ?? "kddrill-none";
      expect(left.stdout).not.toContain(copy);
      const drillDir = /PASS +clean up +removed .* and (\/\S+)/.exec(r.stdout)?.[1];
      expect(drillDir).toStartWith("/");
      expect(existsSync(drillDir ?? "/")).toBe(false);
    }, 300_000);

    test("dr drill fails at decrypt on a wrong passphrase", async () => {
      const wrong = join(dir.path, "wrong");
      writeFileSync(wrong, "not-the-passphrase-at-all\n", { mode: 0o600 });
      const r = await runCli(["dr", "drill", bundle, "--passphrase-file", wrong]);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(/FAIL +decrypt +.*wrong passphrase/);
      expect(r.stdout).toMatch(/SKIP +restore side by side/);
    }, 60_000);

    test("on a wiped host the bundle and its passphrase alone bring the unit back", async () => {
      await run(["docker", "rm", "-f", name]);
      await run(["docker", "volume", "rm", volume]);
      for (const p of ["config.toml", "repository.password", "ca.pem", "state", "cache"])
        rmSync(join(kd, p), { recursive: true, force: true });
      expect(existsSync(join(kd, "repository"))).toBe(true);
      const r = await recoverAll(opened, dir.path);
      expect(r.stderr + r.stdout).toContain(`restored ${config}`);
      expect(r.exitCode).toBe(0);
      expect(readFileSync(caFile, "utf8")).toBe(ca);
      expect(readFileSync(join(kd, "repository.password"), "utf8").trim()).toBe(password);
      expect(await inContainer("sha256sum /data/blob /data/note")).toBe(digest);
    }, 300_000);

    test("dr drill fails at connect when the repository password was rotated", async () => {
      const repo = join(kd, "repository");
      cpSync(repo, `${repo}.orig`, { recursive: true });
      try {
        await run(
          [
            "kopia",
            "--config-file",
            join(kd, "state", "kopia", "repository.config"),
            "repository",
            "change-password",
          ],
          { env: { KOPIA_PASSWORD: password, KOPIA_NEW_PASSWORD: `rotated-${crypto.randomUUID()}` } },
        );
        const r = await runCli(["dr", "drill", bundle, "--passphrase-file", passFile]);
        expect(r.exitCode).toBe(1);
        expect(r.stdout).toMatch(/FAIL +connect read-only +the repository refuses the bundle's password/);
      } finally {
        rmSync(repo, { recursive: true, force: true });
        cpSync(`${repo}.orig`, repo, { recursive: true });
        rmSync(`${repo}.orig`, { recursive: true, force: true });
      }
    }, 120_000);

    test("dr drill fails at verify when the repository's pack blobs were deleted", async () => {
      rmSync(join(kd, "repository", "p"), { recursive: true, force: true });
      const r = await runCli(["dr", "drill", bundle, "--passphrase-file", passFile]);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(/FAIL +verify sample +kopia snapshot verify found damage: .*missing blob/);
      expect(r.stdout).toMatch(/PASS +clean up/);
    }, 120_000);
  });
});
