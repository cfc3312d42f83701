import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import { AppError } from "../../../../src/core/errors.ts";
import { createLogger } from "../../../../src/core/log.ts";
import { passwordOpens } from "../../../../src/core/setup/probe.ts";
import { checkDependencies } from "../../../../src/core/setup/steps.ts";
import { checkUnattended } from "../../../../src/core/setup/unattended.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { EMBEDDED, embeddedOnly, fullBuildNoPath, setupAnswers } from "./fixtures.ts";

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "kd-setup-steps-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("setup's dependency step", () => {
  test("no kopia on PATH, the embedded one inside: it passes, naming it, and writes nothing", async () => {
    const state = join(scratch(), "state");
    const config = ConfigSchema.parse({ paths: { state_dir: state } });
    // Strict and empty: a `kopia --version` on PATH would throw here.
    const runner = new FakeRunner();
    const lines = await checkDependencies({
      runner,
      docker: new FakeDocker(),
      kopia: { config, seams: fullBuildNoPath() },
    });
    expect(lines).toEqual([
      "docker engine 20.10.24",
      `kopia 0.23.1 (embedded: ${join(state, "bin", "kopia-0.23.1")})`,
    ]);
    expect(runner.calls).toHaveLength(0);
    expect(existsSync(state)).toBe(false);
  });

  test("no kopia anywhere: the error says what to install, and not that --with-deps brings kopia", async () => {
    const e = await checkDependencies({
      runner: new FakeRunner(),
      docker: new FakeDocker(),
      kopia: { seams: { which: () => null } },
    }).catch((x) => x);
    expect(e).toBeInstanceOf(AppError);
    expect(e.message).toContain("kopia is not installed");
    expect(e.hint).toContain("install.sh --full");
    expect(e.hint).not.toContain("--with-deps");
  });

  test('kopia.binary = "path" keeps to PATH even in a full build, as every other command does', async () => {
    const config = ConfigSchema.parse({ kopia: { binary: "path" } });
    const e = await checkDependencies({
      runner: new FakeRunner(),
      docker: new FakeDocker(),
      kopia: { config, seams: fullBuildNoPath() },
    }).catch((x) => x);
    expect(e.message).toContain('kopia is not on PATH, and kopia.binary = "path"');
  });
});

describe("setup runs the chosen kopia", () => {
  test("the password probe connects with the embedded kopia when PATH has none", async () => {
    const d = scratch();
    const kopia = embeddedOnly(join(d, "state"));
    // Extracted into the probe's own temp dir: nothing lands in the state dir before the commit.
    const into: string[] = [];
    const extract = kopia.seams.extract;
    const seams = {
      ...kopia.seams,
      extract: async (dir: string, info: typeof EMBEDDED) => {
        into.push(dir);
        return extract ? extract(dir, info) : dir;
      },
    };
    const extracted = (a: readonly string[]) =>
      a[0] === join(into[0] ?? "?", "bin", `kopia-${EMBEDDED.version}`);
    // Only argv[0] = the extracted file is answered: a bare "kopia" would be an unexpected command.
    const runner = new FakeRunner([], [{ argv: extracted }]);
    const config = ConfigSchema.parse({ paths: { state_dir: join(d, "state") } });
    const repo = ConfigSchema.parse({ repository: { path: join(d, "repo") } }).repository;
    expect(await passwordOpens(runner, repo, "pw", { config, seams })).toBe(true);
    expect(into).toHaveLength(1);
    expect(into[0]?.startsWith(join(d, "state"))).toBe(false);
    expect(runner.calls.every((c) => extracted(c.argv))).toBe(true);
    expect(runner.calls.some((c) => c.argv.includes("connect"))).toBe(true);
  });

  test("setup --yes on an existing repository: dependency line and password probe use the config's kopia", async () => {
    const d = scratch();
    writeFileSync(join(d, "pw"), "secret\n", { mode: 0o600 });
    const a = setupAnswers(d);
    mkdirSync(a.repositoryPath, { recursive: true });
    writeFileSync(join(a.repositoryPath, "kopia.repository.f"), "{}");
    const kopia = embeddedOnly(join(d, "state"));
    const runner = new FakeRunner(
      [],
      [
        { argv: (x) => Boolean(x[0]?.endsWith(`/bin/kopia-${EMBEDDED.version}`)) },
        { argv: (x) => x.includes("--dry-run"), stdout: "plan\n" },
      ],
    );
    const info: string[] = [];
    const log = createLogger("quiet");
    log.info = ((m: string) => info.push(m)) as unknown as typeof log.info;
    const text = `[paths]\nstate_dir = "${join(d, "state")}"\n[repository]\npath = "${a.repositoryPath}"\n`;
    await checkUnattended(
      {
        runner,
        docker: new FakeDocker(),
        log,
        selfArgv: ["kd"],
        kopiaSeams: kopia.seams,
        checkCalendar: async () => {},
      },
      a,
      text,
    );
    expect(info[0]).toBe("docker engine 20.10.24");
    expect(info[1]).toBe(`kopia 0.23.1 (embedded: ${kopia.path})`);
    // The probe runs the embedded kopia, extracted into its own temp dir, not the state dir.
    const probe = runner.calls.filter((c) => c.argv.includes("connect")).map((c) => c.argv[0] ?? "");
    expect(probe).toHaveLength(1);
    expect(probe[0]?.endsWith(`/bin/kopia-${EMBEDDED.version}`)).toBe(true);
    expect(probe[0]?.startsWith(join(d, "state"))).toBe(false);
  });
});
