import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, cliArgv, runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName } from "../helpers/env.ts";
import { hasTmux, terminal } from "../helpers/terminal.ts";

/**
 * `setup` on the compiled binary: by flags with no terminal, and the wizard in a real terminal (tmux).
 * Every path of the config it writes lies in a temp dir (--state-dir etc.), never the machine's own.
 */
const compiled = cliArgv()[0] === BINARY;
/** A prompt draws before it reads the keyboard: keys sent in between would be lost. */
const SETTLE_MS = 400;
const mode = (f: string) => (statSync(f).mode & 0o777).toString(8);

describeReal("setup on the compiled binary", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-e2e-setup-");
  const container = uniqueName("kdtsetup");
  /** A fresh host: its own config path, repository, password file and state under `name`. */
  const host = (name: string) => {
    const d = join(dir.path, name);
    return {
      d,
      config: join(d, "etc", "config.toml"),
      repo: join(d, "repo"),
      pw: join(d, "repository.password"),
      paths: [
        ...["--state-dir", join(d, "state"), "--cache-dir", join(d, "cache")],
        ...["--lock-file", join(d, "kd.lock"), "--restore-dir", join(d, "stacks")],
      ],
    };
  };
  const flags = (h: ReturnType<typeof host>) => [
    "setup",
    "--config",
    h.config,
    "--repository-path",
    h.repo,
    "--password-file",
    h.pw,
    "--no-schedule",
    ...h.paths,
  ];

  beforeAll(async () => {
    if (compiled) await startContainer(container, `${container}-v`);
  }, 60_000);
  afterAll(async () => {
    await run(["docker", "rm", "-f", container], { check: false });
    await run(["docker", "volume", "rm", "-f", `${container}-v`], { check: false });
    dir.remove();
  }, 60_000);

  describe.skipIf(!compiled)("by flags, no terminal", () => {
    const a = host("a");

    test("missing answers are a usage error naming the flags; nothing is written", async () => {
      const r = await runCli(["setup", "--config", a.config, "--no-schedule", ...a.paths]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain("--repository-path DIR");
      expect(r.stderr).toContain("--yes");
      expect(existsSync(a.d)).toBe(false);
    });

    test("--dr-bundle whose passphrase could only be shown in a log: a usage error before anything is written", async () => {
      const c = host("c");
      const r = await runCli([
        ...flags(c),
        "--generate-password",
        "--dr-bundle",
        // In a directory that exists: a missing one is refused first (next test).
        join(dir.path, "c-dr.age"),
        "--yes",
      ]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain("--dr-passphrase-file");
      expect(existsSync(c.d)).toBe(false);
    });

    test("--dr-bundle in a directory that does not exist: a usage error naming it before anything is written", async () => {
      const c = host("nodir");
      const bundle = join(c.d, "missing", "dr.age");
      const r = await runCli([...flags(c), "--generate-password", "--dr-bundle", bundle, "--yes"]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(
        `--dr-bundle ${bundle}: ${join(c.d, "missing")} is not an existing directory`,
      );
      expect(existsSync(c.d)).toBe(false);
    });

    // Without systemd-analyze the calendar is only shape-checked (a warning), and setup goes on.
    test.skipIf(!Bun.which("systemd-analyze"))(
      "an --on-calendar systemd refuses: a usage error before anything is written (not a config without its timer)",
      async () => {
        const c = host("calendar");
        const args = flags(c).filter((f) => f !== "--no-schedule");
        const r = await runCli([...args, "--generate-password", "--on-calendar", "bogus", "--yes"]);
        expect(r.exitCode).toBe(2);
        expect(r.stderr).toContain('--on-calendar "bogus" is not a valid systemd calendar expression');
        expect(existsSync(c.d)).toBe(false);
      },
    );

    test("--dr-bundle -: a usage error before anything is written (setup's stdout is its report)", async () => {
      const c = host("stdout");
      const r = await runCli([...flags(c), "--generate-password", "--dr-bundle", "-", "--yes"]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain("setup cannot write the DR bundle to stdout");
      expect(r.stdout).toBe("");
      expect(existsSync(c.d)).toBe(false);
    });

    test("a fresh host: repository created, password generated (0600), config 0600 and valid; a backup then works", async () => {
      const r = await runCli([...flags(a), "--generate-password", "--keep-daily", "9", "--yes"]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain("(created)");
      expect(mode(a.config)).toBe("600");
      expect(mode(a.pw)).toBe("600");
      const password = readFileSync(a.pw, "utf8").trim();
      // No terminal: a log would keep it. The person is told where it is instead.
      expect(r.stderr).not.toContain(password);
      expect(r.stderr).toContain(`Repository password generated in ${a.pw} (0600)`);
      expect(r.stdout).not.toContain(password);
      expect(readFileSync(a.config, "utf8")).not.toContain(password);
      expect(readFileSync(a.config, "utf8")).toContain(
        "# kopi-docka configuration (TOML), written by `kopi-docka setup`.",
      );
      expect(readFileSync(a.config, "utf8")).toContain("daily = 9");
      expect(existsSync(join(a.repo, "kopia.repository.f"))).toBe(true);
      expect((await runCli(["config", "validate", "--config", a.config])).exitCode).toBe(0);
      const b = await runCli(["backup", "--config", a.config, "--unit", container]);
      expect(b.exitCode).toBe(0);
    }, 180_000);

    test("an existing config is replaced only with --force, which keeps a .bak and the host's own settings", async () => {
      appendFileSync(a.config, "\n[units.keepme]\nexclude = true\n");
      const before = readFileSync(a.config, "utf8");
      const refused = await runCli([...flags(a), "--yes"]);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain("--force");
      const r = await runCli([...flags(a), "--yes", "--force"]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain("(connected)");
      const bak = readdirSync(join(a.d, "etc")).filter((f) => f.startsWith("config.toml.bak-"));
      expect(bak).toHaveLength(1);
      expect(readFileSync(join(a.d, "etc", bak[0] ?? ""), "utf8")).toBe(before);
      expect(readFileSync(a.config, "utf8")).toContain("[units.keepme]\nexclude = true");
      const again = await runCli([...flags(a), "--yes", "--force", "--keep-weekly", "5"]);
      expect(again.exitCode).toBe(0);
      expect(readFileSync(a.config, "utf8")).toContain("weekly = 5");
    }, 120_000);

    test("an existing repository is connected, never overwritten; a wrong password file changes nothing", async () => {
      const b = host("b");
      const format = readFileSync(join(a.repo, "kopia.repository.f"));
      writeFileSync(join(dir.path, "wrong.pw"), "not-the-password\n", { mode: 0o600 });
      const wrong = await runCli([...flags({ ...b, repo: a.repo, pw: join(dir.path, "wrong.pw") }), "--yes"]);
      expect(wrong.exitCode).toBe(12);
      expect(existsSync(b.config)).toBe(false);
      const gen = await runCli([...flags({ ...b, repo: a.repo }), "--generate-password", "--yes"]);
      expect(gen.exitCode).toBe(2);
      expect(gen.stderr).toContain("a repository exists");
      const r = await runCli([...flags({ ...b, repo: a.repo, pw: a.pw }), "--yes"]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain("(connected)");
      expect(readFileSync(join(a.repo, "kopia.repository.f"))).toEqual(format);
    }, 120_000);
  });

  describe.skipIf(!compiled || !hasTmux)("the wizard in a terminal", () => {
    const shell = (args: string[]) => `env -u CI NO_COLOR=1 ${BINARY} ${args.map((x) => `'${x}'`).join(" ")}`;

    test("a fresh host: generate a password, keep defaults, no timer, no notification, write", async () => {
      const c = host("c");
      const t = terminal(uniqueName("kdtsetupc"));
      try {
        await t.start(shell(flags(c).filter((x) => x !== "--no-schedule")));
        await t.waitFor("Repository password");
        await Bun.sleep(SETTLE_MS);
        await t.keys("Enter"); // generate
        await t.waitFor("DR bundle now?");
        await Bun.sleep(SETTLE_MS);
        await t.keys("Enter"); // no bundle: the password is shown
        await t.waitFor("Keep latest 10");
        await Bun.sleep(SETTLE_MS);
        await t.keys("Enter"); // yes
        await t.waitFor("Install the nightly systemd timer?");
        await Bun.sleep(SETTLE_MS);
        await t.keys("Right");
        await t.keys("Enter"); // no
        await t.waitFor("Notify on failure");
        await Bun.sleep(SETTLE_MS);
        await t.keys("Enter"); // none
        // the dry run's plan (the host's every unit) scrolls past: the question after it is what shows
        await t.waitFor(`Write ${c.config} and create the repository?`, 120_000);
        await Bun.sleep(SETTLE_MS);
        await t.keys("Enter");
        const screen = await t.waitFor("EXIT=", 120_000);
        expect(screen).toContain("EXIT=0");
        expect(screen).toContain("(created)");
      } finally {
        await t.kill();
      }
      expect(mode(c.config)).toBe("600");
      expect(existsSync(join(c.repo, "kopia.repository.f"))).toBe(true);
    }, 300_000);

    test("an existing repository: a wrong password is asked again, the right one connects", async () => {
      const d = host("d");
      const src = host("c");
      // Its directory must exist when the question is answered (setup makes d.d only when it commits).
      const bundle = join(dir.path, "d-dr.age");
      const password = readFileSync(src.pw, "utf8").trim();
      const t = terminal(uniqueName("kdtsetupd"));
      try {
        await t.start(shell(flags({ ...d, repo: src.repo })));
        await t.waitFor("try 1 of 3");
        await Bun.sleep(SETTLE_MS);
        await t.keys("-l", "wrong-password-1");
        await t.keys("Enter");
        await t.waitFor("wrong password");
        await t.waitFor("try 2 of 3");
        await Bun.sleep(SETTLE_MS);
        await t.keys("-l", password);
        await t.keys("Enter");
        await t.waitFor("the password opens the repository");
        await t.waitFor("DR bundle now?");
        await Bun.sleep(SETTLE_MS);
        await t.keys("-l", bundle);
        await t.keys("Enter");
        await t.waitFor("Keep latest");
        await Bun.sleep(SETTLE_MS);
        await t.keys("Enter");
        await t.waitFor("Notify on failure");
        await Bun.sleep(SETTLE_MS);
        await t.keys("Enter");
        await t.waitFor("Write ", 120_000);
        await Bun.sleep(SETTLE_MS);
        await t.keys("Enter");
        const screen = await t.waitFor("EXIT=", 120_000);
        expect(screen).toContain("EXIT=0");
        expect(screen).toContain("(connected)");
      } finally {
        await t.kill();
      }
      expect(readFileSync(d.pw, "utf8").trim()).toBe(password);
      expect(readFileSync(bundle).subarray(0, 21).toString()).toBe("age-encryption.org/v1");
      expect(existsSync(`${bundle}.txt`)).toBe(true);
      expect(mode(d.pw)).toBe("600");
    }, 300_000);

    test("Ctrl+C at each question writes nothing", async () => {
      const e = host("e");
      // Every question of a fresh host in order, and how it is answered to get to the next one.
      const questions: [string, string[]][] = [
        ["Where backups go", []], // filesystem, the default
        ["Repository directory", ["-l", e.repo]],
        ["Repository password", []],
        ["DR bundle now?", []],
        ["Keep latest", []],
        ["Install the nightly systemd timer?", ["Right"]],
        ["Notify on failure", []],
        ["Write ", []],
      ];
      for (let stop = 0; stop < questions.length; stop++) {
        const t = terminal(uniqueName("kdtsetupe"));
        try {
          await t.start(
            shell(
              flags(e).filter(
                (x, i, all) =>
                  x !== "--no-schedule" && x !== "--repository-path" && all[i - 1] !== "--repository-path",
              ),
            ),
          );
          for (const [i, [question, keys]] of questions.entries()) {
            await t.waitFor(question, 120_000);
            await Bun.sleep(SETTLE_MS);
            if (question === "Repository password")
              await t.waitFor(`a new repository will be made at ${e.repo}\n`);
            if (i === stop) break;
            if (question === "Repository directory") await t.keys("C-u"); // the suggested directory goes first
            if (keys.length) await t.keys(...keys);
            await t.keys("Enter");
          }
          await t.keys("C-c");
          const screen = await t.waitFor("EXIT=");
          expect(screen).toContain("EXIT=130");
          expect(screen).toContain("nothing was written");
        } finally {
          await t.kill();
        }
        expect(existsSync(e.d)).toBe(false);
      }
    }, 300_000);
  });
});
