import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { exitCodeFor } from "../../../../src/cli.ts";
import { parseConfigText } from "../../../../src/config/load.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { acquireLock } from "../../../../src/core/lock/acquire.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { initRepository } from "../../../../src/core/repository/manage.ts";
import { openRepository } from "../../../../src/core/repository/open.ts";
import { afterPasswordChange, changePassword } from "../../../../src/core/repository/password-change.ts";
import { passwordTaken } from "../../../../src/core/repository/password-probe.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

/** A host whose state says it is connected to a filesystem repository under a temp dir. */
function host(runner: FakeRunner, o: { connected?: boolean; repoHere?: boolean } = {}) {
  const t = tempDir("kdt-open-");
  dirs.push(t);
  const d = t.path;
  const repo = join(d, "repo");
  if (o.repoHere !== false) {
    mkdirSync(repo, { recursive: true });
    writeFileSync(join(repo, "kopia.repository.f"), "{}");
  }
  writeFileSync(join(d, "pw"), "old-password\n", { mode: 0o600 });
  const kopiaConfigFile = join(d, "kopia.config");
  if (o.connected !== false)
    writeFileSync(
      kopiaConfigFile,
      JSON.stringify({
        storage: { type: "filesystem", config: { path: repo } },
        hostname: "h",
        username: "kopi-docka",
      }),
    );
  const config = parseConfigText(`[repository]\npath = "${repo}"\npassword_file = "${join(d, "pw")}"\n`, "x");
  const kopia = createKopia(runner, {
    configFile: kopiaConfigFile,
    cacheDir: join(d, "cache"),
    logDir: join(d, "logs"),
    password: () => readFileSync(join(d, "pw"), "utf8").trim(),
    hostname: "h",
    username: "kopi-docka",
  });
  const paths = { stateDir: d, kopiaConfigFile, lockFile: join(d, "kopi-docka.lock") };
  const lifecycle = new Lifecycle();
  return { d, deps: { kopia, runner, config, paths, log: silentLogger(), lifecycle } };
}

const isKopia =
  (...words: string[]) =>
  (argv: readonly string[]) =>
    argv[0] === "kopia" && words.every((w, i) => argv[3 + i] === w);
const status = { argv: isKopia("repository", "status"), stdout: "{}" };
const wrong = { exitCode: 1, stderr: "ERROR invalid repository password" };
/** The read-only connects `passwordTaken` makes after a failed change: the new password, then the old. */
const probes = (takes: "old" | "new" | "neither") => {
  const connect = { argv: isKopia("repository", "connect") };
  if (takes === "new") return [connect];
  return [{ ...connect, ...wrong }, takes === "old" ? connect : { ...connect, ...wrong }];
};

describe("openRepository", () => {
  test("connected and matching: only a status check, no connect, no create", async () => {
    const runner = new FakeRunner([status]);
    const { deps } = host(runner);
    expect(await openRepository(deps, "use")).toMatchObject({ created: false });
    expect(runner.calls).toHaveLength(1);
  });

  test("a host that has connected before never creates: a vanished path is exit 10, no kopia call", async () => {
    const runner = new FakeRunner([]);
    const { deps } = host(runner, { repoHere: false });
    const e = await openRepository(deps, "use").catch((x) => x);
    expect(exitCodeFor(e)).toBe(10);
    expect(e.message).toContain("is the disk mounted?");
    expect(runner.calls).toHaveLength(0);
  });
});

describe("change-password: a failure in between leaves both working", () => {
  test("kopia refuses the change: the password file and kopia keep the old password, no .new left", async () => {
    const runner = new FakeRunner([
      status,
      { argv: isKopia("repository", "change-password"), exitCode: 1, stderr: "boom" },
      ...probes("old"),
    ]);
    const { d, deps } = host(runner);
    const newFile = join(d, "new");
    writeFileSync(newFile, "new-password-123\n", { mode: 0o600 });
    await expect(changePassword(deps, { newPasswordFile: newFile })).rejects.toThrow();
    expect(readFileSync(join(d, "pw"), "utf8").trim()).toBe("old-password");
    expect(existsSync(join(d, "pw.new"))).toBe(false);
    const call = runner.calls[1];
    expect(call?.options.env?.KOPIA_NEW_PASSWORD).toBe("new-password-123");
    expect(call?.argv.join(" ")).not.toContain("new-password-123");
  });

  test("kopia fails after the new key reached the repository: the change is finished, not undone", async () => {
    const runner = new FakeRunner([
      status,
      { argv: isKopia("repository", "change-password"), exitCode: 1, stderr: "error closing repository" },
      ...probes("new"),
    ]);
    const { d, deps } = host(runner);
    const newFile = join(d, "new");
    writeFileSync(newFile, "new-password-123\n", { mode: 0o600 });
    expect(await changePassword(deps, { newPasswordFile: newFile })).toEqual({ file: join(d, "pw") });
    expect(readFileSync(join(d, "pw"), "utf8").trim()).toBe("new-password-123");
    expect(existsSync(join(d, "pw.new"))).toBe(false);
    // The probe asks with the new password, on a connection of its own with an empty cache.
    const probe = runner.calls[2];
    expect(probe?.options.env?.KOPIA_PASSWORD).toBe("new-password-123");
    expect(probe?.argv).not.toContain(join(d, "kopia.config"));
    expect(probe?.argv).toContain("--readonly");
  });

  test("kopia fails and neither password opens: both files stay, the error names them", async () => {
    const runner = new FakeRunner([
      status,
      { argv: isKopia("repository", "change-password"), exitCode: 137, stderr: "" },
      ...probes("neither"),
    ]);
    const { d, deps } = host(runner);
    const newFile = join(d, "new");
    writeFileSync(newFile, "new-password-123\n", { mode: 0o600 });
    const e = await changePassword(deps, { newPasswordFile: newFile }).catch((x) => x);
    expect(e.message).toContain("opens with neither password now");
    expect(e.message).toContain(join(d, "pw.new"));
    expect(readFileSync(join(d, "pw"), "utf8").trim()).toBe("old-password");
    expect(readFileSync(join(d, "pw.new"), "utf8").trim()).toBe("new-password-123");
    expect(runner.remaining).toBe(0);
  });

  test("an unfinished earlier change (.new present) is refused, naming the file", async () => {
    const runner = new FakeRunner([]);
    const { d, deps } = host(runner);
    writeFileSync(join(d, "pw.new"), "x\n");
    const e = await changePassword(deps, {}).catch((x) => x);
    expect(e.message).toContain(`${join(d, "pw.new")} exists`);
    expect(runner.calls).toHaveLength(0);
  });
});

test("a signal while the password probe connects removes its temp dir before the probe ends, and no second connect starts", async () => {
  const fake = new FakeRunner(probes("neither"));
  const { deps } = host(fake);
  const lifecycle = new Lifecycle();
  const dirs: { dir: string; leftAfterSignal?: boolean }[] = [];
  // The signal arrives while kopia connects with the new password: the signal path (abort, end
  // children, compensate) runs before that connect answers, as when the process exits on the signal
  // with the probe still waiting for kopia.
  const runner = {
    run: async (argv: readonly string[], o?: Parameters<FakeRunner["run"]>[1]) => {
      const dir = dirname(argv[argv.indexOf("--config-file") + 1] ?? "");
      if (dirs.length > 0) dirs.push({ dir });
      else {
        await lifecycle.onSignal("SIGTERM");
        dirs.push({ dir, leftAfterSignal: existsSync(dir) });
      }
      return fake.run(argv, o);
    },
  };
  expect(await passwordTaken({ ...deps, runner, lifecycle }, "old-password", "new-password-123")).toBe(
    "unknown",
  );
  // Before: a second kopia connected with the old password after the signal, in a dir made then.
  expect(dirs.map((d) => basename(d.dir))).toEqual([expect.stringMatching(/^kopi-docka-password-probe-p/)]);
  expect(dirs[0]?.leftAfterSignal).toBe(false);
  expect(dirs.filter((d) => existsSync(d.dir))).toEqual([]);
  expect(lifecycle.pending()).toEqual([]);
});

test("after a change: replicas to sync now, DR bundles to export again", () => {
  expect(afterPasswordChange([{ name: "offsite" }, { name: "nas" }])).toEqual([
    "replicas offsite, nas open only with the old password until they are synced: run `kopi-docka repo sync` now",
    "a DR bundle exported before holds the old password: run `kopi-docka dr export` again",
  ]);
  expect(afterPasswordChange([])).toHaveLength(1);
});

test("repo init and change-password wait for no backup: a live holder of the host lock is exit 11, nothing run", async () => {
  const runner = new FakeRunner([]);
  const { deps } = host(runner);
  const held = await acquireLock(deps.paths.lockFile, { runId: "backup-1", command: "backup" });
  try {
    for (const attempt of [() => initRepository(deps), () => changePassword(deps, {})]) {
      const e = await attempt().catch((x) => x);
      expect(exitCodeFor(e)).toBe(11);
    }
    expect(runner.calls).toHaveLength(0);
  } finally {
    held.release();
  }
});
