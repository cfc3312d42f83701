import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { removeDockerObjects } from "../helpers/cleanup.ts";
import { runCli } from "../helpers/cli.ts";
import { describeReal, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { sampleCommandLines } from "../helpers/processes.ts";

// `kopi-docka kopia -- ARGS`: the real kopia on this host's connection, password only in env.
describeReal("kopia passthrough", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-kopiapt-");
  const name = uniqueName("kdtkpt");
  const kd = join(dir.path, "kd");
  const config = writeTestConfig(kd);

  beforeAll(async () => {
    await startContainer(name, name);
    expect((await runCli(["backup", "--config", config, "--unit", name])).exitCode).toBe(0);
  }, 240_000);

  afterAll(async () => {
    await removeDockerObjects([name], [name]);
    dir.remove();
  }, 60_000);

  test("snapshot list --json through it: exactly the snapshots `snapshots --json` reports", async () => {
    const through = await runCli(["kopia", "--config", config, "--", "snapshot", "list", "--all", "--json"]);
    expect(through.exitCode).toBe(0);
    const manifests = JSON.parse(through.stdout) as { id: string; source: { host: string } }[];
    const listed = JSON.parse((await runCli(["snapshots", "--config", config, "--json"])).stdout);
    const ids = (listed.points as Record<string, unknown>[]).flatMap((p) => [
      ...[p.recipe, p.networks].flatMap((s) => (s ? [(s as { id: string }).id] : [])),
      ...(p.volumes as { id: string }[]).map((v) => v.id),
      ...(p.binds as { id: string }[]).map((b) => b.id),
    ]);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(manifests.map((m) => m.id).sort()).toEqual(ids.sort());
    expect(new Set(manifests.map((m) => m.source.host))).toEqual(new Set(["kd-test-host"]));
  });

  test("the password is never in argv (ps while kopia runs); our own flags before -- are not kopia's", async () => {
    const password = readFileSync(join(kd, "repository.password"), "utf8").trim();
    let seen: string[] = [];
    // a quick command: sample until ps has caught kopia itself at least once
    for (let i = 0; i < 10; i++) {
      const pending = runCli(["kopia", "--config", config, "--", "snapshot", "list", "--all"]);
      const lines = await sampleCommandLines(pending);
      expect((await pending).exitCode).toBe(0);
      seen = [...seen, ...lines];
      if (seen.some((l) => /^kopia --config-file \S+ snapshot list --all$/.test(l))) break;
    }
    expect(
      seen.filter((l) => /^kopia --config-file .*repository\.config snapshot list --all$/.test(l)).length,
    ).toBeGreaterThan(0);
    for (const l of seen) expect(l).not.toContain(password);
  });

  test("kopia's failure is exit 1 with its own message; no command is a usage error", async () => {
    const bad = await runCli(["kopia", "--config", config, "--", "snapshot", "list", "--no-such-flag"]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain("unknown long flag '--no-such-flag'");
    expect(bad.stderr).toContain("kopia exited with code 1");
    const none = await runCli(["kopia", "--config", config]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain("kopi-docka kopia -- snapshot list");
    const help = await runCli(["kopia", "--config", config, "--", "snapshot", "list", "--help"]);
    expect(help.stdout + help.stderr).toContain("usage: kopia snapshot list");
  });
});
