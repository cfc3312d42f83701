import { afterAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBunRunner } from "../../src/core/process/runner.ts";
import { BINARY, cliArgv, runCli } from "../helpers/cli.ts";
import { available, tempDir, writeTestConfig } from "../helpers/env.ts";

const dir = tempDir("kd-e2e-");
afterAll(() => dir.remove());

describe("the kopi-docka binary", () => {
  test("--help lists the commands and exits 0", async () => {
    const r = await runCli(["--help"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("USAGE kopi-docka");
    for (const c of ["version", "doctor", "config"]) expect(r.stdout).toContain(c);
    expect(r.stdout).not.toContain("\x1b["); // plain text into a pipe
  });

  test("version --json reports the tool, kopia, docker and compose", async () => {
    const r = await runCli(["version", "--json"]);
    expect(r.exitCode).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.kopiDocka).toMatch(/^\d+\.\d+\.\d+/);
    if (available.kopia) expect(info.kopia).toMatch(/^\d+\.\d+\.\d+$/);
    if (available.docker) expect(info.dockerServer).toBeTruthy();
    if (available.compose) expect(info.compose).toMatchObject({ version: expect.any(String) });
  });

  test("an unknown option is a usage error (exit 2) naming the valid ones", async () => {
    const r = await runCli(["doctor", "--jsn"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("unknown option --jsn");
    expect(r.stderr).toContain("--json");
  });

  // citty gives a sub-command only the words after its name: `--dry-run` before it ran the real thing.
  // Each argv is harmless should the option be dropped again: a test config and a unit that does not exist.
  const guarded = () => ["--config", writeTestConfig(join(dir.path, "before")), "--unit", "kd-no-such-unit"];
  test.each([
    [["--dry-run", "backup"], "--dry-run", "kopi-docka backup --dry-run"],
    [["--config=/nowhere.toml", "--json", "doctor"], "--config=/nowhere.toml --json", "kopi-docka doctor"],
    [
      ["snapshots", "--dry-run", "delete", "--run", "x"],
      "--dry-run",
      "kopi-docka snapshots delete --dry-run",
    ],
  ])("an option before the command's name (%j) is a usage error, nothing run", async (argv, what, hint) => {
    const r = await runCli(argv[0] === "--dry-run" ? [...argv, ...guarded()] : argv);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${what} comes before the command`);
    expect(r.stderr).toContain(hint);
    expect(r.stdout).toBe("");
  });

  test("--help before the command's name shows that command's help", async () => {
    const r = await runCli(["--help", "backup", ...guarded()]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("USAGE kopi-docka backup");
  });

  test("an unknown command is a usage error", async () => {
    const r = await runCli(["bakcup"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("unknown command `bakcup`");
  });

  test("--json errors are one JSON object on stderr, stdout stays empty", async () => {
    const r = await runCli(["config", "validate", "--json", "--config", join(dir.path, "nope.toml")]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(JSON.parse(r.stderr.trim())).toMatchObject({ type: "exit_error", code: "config", exitCode: 2 });
  });
});

describe("config commands", () => {
  test("init writes a commented file, refuses to overwrite, --force keeps a backup", async () => {
    const file = join(dir.path, "init", "config.toml");
    expect((await runCli(["config", "init", "--config", file])).exitCode).toBe(0);
    expect(readFileSync(file, "utf8")).toContain("# kopi-docka configuration");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, `${readFileSync(file, "utf8")}\n# my edit\n`);
    const again = await runCli(["config", "init", "--config", file]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain("--force");
    expect(readFileSync(file, "utf8")).toContain("# my edit"); // nothing lost
    const forced = await runCli(["config", "init", "--config", file, "--force"]);
    expect(forced.exitCode).toBe(0);
    expect(forced.stderr).toMatch(/kept the previous file as .*\.bak-/);
  });

  test("validate names file, line and key of every problem (exit 2)", async () => {
    const file = join(dir.path, "bad.toml");
    writeFileSync(file, "[retention]\ndaily = -1\n[backup]\nscop = 'full'\n");
    const r = await runCli(["config", "validate", "--config", file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${file}:2: retention.daily: must be at least 0`);
    expect(r.stderr).toContain(`${file}:4: backup.scop: unknown key`);
  });

  test("show prints the effective config; path prints where it is", async () => {
    const file = writeTestConfig(join(dir.path, "show"));
    const show = await runCli(["config", "show", "--json", "--config", file]);
    expect(show.exitCode).toBe(0);
    const parsed = JSON.parse(show.stdout);
    expect(parsed.path).toBe(file);
    expect(parsed.config.repository.path).toBe(join(dir.path, "show", "repository"));
    expect(parsed.config.retention.daily).toBe(7);
    const path = await runCli(["config", "path", "--json"], { env: { KOPI_DOCKA_CONFIG: file } });
    expect(JSON.parse(path.stdout)).toEqual({ path: file, exists: true });
  });
});

describe("doctor", () => {
  test("a fresh config: repository and password not created yet, no backup yet, no timer", async () => {
    const file = writeTestConfig(join(dir.path, "doctor"));
    const units = join(dir.path, "doctor-units");
    mkdirSync(units);
    const r = await runCli(["doctor", "--json", "--config", file, "--unit-dir", units]);
    const report = JSON.parse(r.stdout);
    const byId = Object.fromEntries(report.checks.map((c: { id: string }) => [c.id, c]));
    // No timer is a warning (cron may run backups; the freshness lines judge), systemd running or not.
    if (available.docker && available.kopia) {
      expect(r.exitCode).toBe(0);
      expect(report.healthy).toBe(true);
    }
    expect(byId.config.status).toBe("ok");
    expect(byId.repository.status).toBe("warn");
    expect(byId.password.detail).toContain("will be generated");
    expect(byId.schedule.status).toBe("warn");
    expect(byId.freshness).toMatchObject({ status: "warn" });
    expect(byId.freshness.detail).toContain("no unit has been backed up on this host yet");
  });

  test("a broken config is a failed hard check: exit 1, the reason in the report", async () => {
    const file = join(dir.path, "doctor-bad.toml");
    writeFileSync(file, "[repository]\npath = 3\n");
    const r = await runCli(["doctor", "--json", "--config", file]);
    expect(r.exitCode).toBe(1);
    const config = JSON.parse(r.stdout).checks.find((c: { id: string }) => c.id === "config");
    expect(config).toMatchObject({ status: "fail" });
    expect(config.detail).toContain("repository.path");
  });

  test("a missing kopia is a failed hard check", async () => {
    const file = writeTestConfig(join(dir.path, "doctor-nokopia"));
    const r = await runCli(["doctor", "--json", "--config", file], { env: { PATH: "/usr/sbin:/sbin:/bin" } });
    expect(r.exitCode).toBe(1);
    const kopia = JSON.parse(r.stdout).checks.find((c: { id: string }) => c.id === "kopia");
    expect(kopia.status).toBe("fail");
  });
});

describe("safety of the build", () => {
  test("a root-only command run by another user exits 13 and changes nothing", async () => {
    const target = join("/etc", `kopi-docka-e2e-${process.pid}`, "config.toml");
    // nobody cannot reach a checkout under /root (0700): run a copy of the compiled binary it can reach.
    let argv = cliArgv();
    const reachable = mkdtempSync(join(tmpdir(), "kd-e2e-nobody-"));
    if (argv.length === 1) {
      chmodSync(reachable, 0o755);
      copyFileSync(argv[0] as string, join(reachable, "kopi-docka"));
      chmodSync(join(reachable, "kopi-docka"), 0o755);
      argv = [join(reachable, "kopi-docka")];
    }
    const r = await createBunRunner()
      .run(
        [
          "setpriv",
          "--reuid=65534",
          "--regid=65534",
          "--clear-groups",
          ...argv,
          "config",
          "init",
          "--config",
          target,
        ],
        { check: false, env: { NO_COLOR: "1", CI: "true" } },
      )
      .finally(() => rmSync(reachable, { recursive: true, force: true }));
    expect(r.exitCode).toBe(13);
    expect(r.stderr).toContain("must run as root");
    expect(existsSync(target)).toBe(false);
  });

  // Only meaningful for the compiled binary; in CI (scripts/test.sh builds it first) a missing one fails.
  test.skipIf(cliArgv().length !== 1 && !process.env.CI)(
    "the binary ignores a .env and a bunfig.toml in its working directory",
    async () => {
      expect(cliArgv()).toEqual([BINARY]);
      const cwd = join(dir.path, "hostile-cwd");
      const marker = join(dir.path, "preload-ran");
      await createBunRunner().run(["mkdir", "-p", cwd]);
      writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./pre.ts"]\n');
      writeFileSync(
        join(cwd, "pre.ts"),
        `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "x");\n`,
      );
      writeFileSync(join(cwd, ".env"), "KOPI_DOCKA_CONFIG=/nonexistent/from-dotenv.toml\n");
      const r = await createBunRunner().run([...cliArgv(), "config", "path"], {
        check: false,
        cwd,
        env: { KOPI_DOCKA_CONFIG: undefined },
      });
      expect(r.exitCode).toBe(0);
      expect(r.stdout.trim()).toBe("/etc/kopi-docka/config.toml");
      expect(existsSync(marker)).toBe(false);
    },
  );
});
