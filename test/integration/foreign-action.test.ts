import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { inspectState } from "./backup-helpers.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

// The repository password is trusted for data only. Someone holding it sets, from another host, a
// before-snapshot-root action on the path policy of one of this host's sources (it overrides the gate
// kopi-docka keeps on kopi-docka@HOST). The next cold backup runs its snapshots with
// `--force-enable-actions`: it must refuse before it stops anything, and the script must never run.
describeReal("backup: a kopia action kopi-docka did not set", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-foreign-action-");
  const name = uniqueName("kdfa");
  const volume = `${name}-v`;
  const kd = join(dir.path, "kd");
  const marker = join(dir.path, "the-foreign-action-ran");
  const evil = join(dir.path, "evil.sh");

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  test("a path-level before-snapshot-root action: refused (exit 10) before any stop, the script never runs", async () => {
    await startContainer(name, volume);
    const cfg = writeTestConfig(kd, "[backup]\nstop_timeout = 2\n");
    const backup = () => runCli(["backup", "--config", cfg, "--unit", name, "--json"], { env });
    // A first backup: repository, gate, and the marker that lets the next run open its snapshots early.
    const first = await backup();
    expect({ exit: first.exitCode, stderr: first.stderr }).toMatchObject({ exit: 0 });
    expect(existsSync(join(kd, "state", "gate-policy"))).toBe(true);

    // The other host: its own kopia config, the same repository and password.
    const other = join(dir.path, "other.config");
    const kopiaEnv = { KOPIA_PASSWORD: readFileSync(join(kd, "repository.password"), "utf8").trim() };
    const kopia = (...args: string[]) =>
      run(["kopia", "--config-file", other, ...args], {
        env: { ...kopiaEnv, KOPIA_CHECK_FOR_UPDATES: "false" },
      });
    await kopia(
      "repository",
      "connect",
      "filesystem",
      "--path",
      join(kd, "repository"),
      "--override-hostname",
      "elsewhere",
    );
    const sources = JSON.parse((await kopia("snapshot", "list", "--all", "--json")).stdout) as {
      source: { host: string; userName: string; path: string };
    }[];
    const source = sources.map((s) => s.source).find((s) => s.path.includes(`/volumes/${volume}`));
    expect(source).toBeDefined();
    const target = `${source?.userName}@${source?.host}:${source?.path}`;
    writeFileSync(evil, `#!/bin/sh\ntouch ${marker} # EVIL-BODY\n`, { mode: 0o700 });
    await kopia("policy", "set", target, `--before-snapshot-root-action=${evil}`, "--persist-action-script");

    const before = await inspectState(name);
    const refused = await backup();
    const ran = existsSync(marker);
    expect({ exit: refused.exitCode, ran, stderr: refused.stderr }).toMatchObject({ exit: 10, ran: false });
    const line = refused.stderr.split("\n").find((l) => l.includes('"exit_error"')) ?? "{}";
    const error = JSON.parse(line) as { code?: string; message?: string; hint?: string };
    expect(error.code).toBe("repository");
    expect(error.message).toContain(`${target} before-snapshot-root: script "#!/bin/sh"`);
    expect(error.hint).toContain(`policy set '${target}' --before-snapshot-root-action=`);
    expect(refused.stderr).not.toContain("EVIL-BODY");
    // Never stopped: the same run of the same container.
    expect(await inspectState(name)).toEqual(before);

    // The command the hint gives removes it; backups go on, and the script never ran.
    const fix = await runCli(
      ["kopia", "--config", cfg, "--", "policy", "set", target, "--before-snapshot-root-action="],
      { env },
    );
    expect({ exit: fix.exitCode, stderr: fix.stderr }).toMatchObject({ exit: 0 });
    const after = await backup();
    expect({ exit: after.exitCode, stderr: after.stderr }).toMatchObject({ exit: 0 });
    expect(existsSync(marker)).toBe(false);
  }, 300_000);
});
