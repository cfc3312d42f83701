import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

// Issue 14: removing a pattern from backup.exclude_patterns left it in kopia's policy, so the data
// stayed excluded silently. The source's ignore list must follow the config both ways.
describeReal("exclude_patterns: kopia's policy follows the config", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-exclude-");
  const name = uniqueName("kdt-exclude");
  const data = join(dir.path, "data");
  const kd = join(dir.path, "kd");
  const withPattern = (patterns: string) =>
    writeTestConfig(kd, `[backup]\nstop_timeout = 2\nexclude_patterns = [${patterns}]\n`);

  /**
   * Backs up our unit and lists the files of its bind snapshot, read back with kopia itself. `ahead`:
   * what the run did with the snapshots it opened beside the policy reads (`backup/ahead.ts`); they
   * were started with the old ignore rules, so after a change they must be dropped, never used.
   */
  async function backupAndList(ahead?: "used" | "dropped"): Promise<string[]> {
    const config = join(kd, "config.toml");
    const b = await runCli(["backup", "--unit", name, "--json", "--verbose", "--config", config], { env });
    const said = b.stderr.includes("using the snapshots opened ahead")
      ? "used"
      : b.stderr.includes("snapshots opened ahead were dropped")
        ? "dropped"
        : undefined;
    expect(said).toBe(ahead);
    expect({ exit: b.exitCode, stderr: b.stderr }).toMatchObject({ exit: 0 });
    const bind = JSON.parse(b.stdout).units[0].sources.find((s: { type: string }) => s.type === "bind");
    const ls = await run(
      [
        "kopia",
        "--config-file",
        join(kd, "state", "kopia", "repository.config"),
        "ls",
        "-r",
        bind.snapshotId,
      ],
      {
        env: {
          KOPIA_PASSWORD: readFileSync(join(kd, "repository.password"), "utf8").trim(),
          KOPIA_CHECK_FOR_UPDATES: "false",
          KOPIA_LOG_DIR: join(dir.path, "kopia-logs"),
        },
      },
    );
    return ls.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/^[0-9a-f]+\//, ""))
      .sort();
  }

  beforeAll(async () => {
    mkdirSync(data);
    writeFileSync(join(data, "keep.txt"), "kept\n");
    writeFileSync(join(data, "app.log"), "a log line\n");
    await startContainer(name, data);
  }, 60_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    dir.remove();
  }, 60_000);

  test("add a pattern, back up, remove it, back up: the file is in the second snapshot (and never in one opened before the change)", async () => {
    withPattern('"*.log"');
    expect(await backupAndList()).toEqual(["keep.txt"]);
    withPattern("");
    expect(await backupAndList("dropped")).toEqual(["app.log", "keep.txt"]);
    expect(await backupAndList("used")).toEqual(["app.log", "keep.txt"]);
    withPattern('"keep.txt"');
    expect(await backupAndList("dropped")).toEqual(["app.log"]);
  }, 300_000);
});
