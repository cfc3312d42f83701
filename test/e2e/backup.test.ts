import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { BINARY, cliArgv, runCli } from "../helpers/cli.ts";
import {
  available,
  describeReal,
  run,
  TEST_IMAGE,
  tempDir,
  uniqueName,
  volumeMountpoint,
  writeTestConfig,
} from "../helpers/env.ts";
import { sampleCommandLines } from "../helpers/processes.ts";
import { hasTmux, terminal } from "../helpers/terminal.ts";
import { compose, composeUp } from "../integration/backup-helpers.ts";

/** The CLI as shipped: these tests run the compiled binary (built first by scripts/test.sh). */
const compiled = cliArgv()[0] === BINARY;

if (!compiled && process.env.CI) {
  test("the compiled binary exists (bun run build.ts)", () => {
    throw new Error(`missing ${BINARY}`);
  });
}

describeReal("backup and history on the compiled binary", ["docker", "kopia", "image", "compose"], () => {
  const dir = tempDir("kdt-e2e-backup-");
  const project = uniqueName("kdtprog").replace(/-/g, "");
  const secret = `pw-${crypto.randomUUID()}`;
  const failing = `${project}-nohook`;
  const hook = join(dir.path, "refuse.sh");
  const config = writeTestConfig(
    join(dir.path, "kd"),
    `[backup]\nstop_timeout = 10\nstart_timeout = 30\n\n[units.${failing}]\npre_backup = "${hook}"\n`,
  );
  const runsDir = join(dir.path, "kd", "state", "runs");
  const BLOB = 30_000_000;
  let backup: Awaited<ReturnType<typeof runCli>>;
  let commandLines: string[] = [];

  beforeAll(async () => {
    if (!compiled) return;
    await composeUp(join(dir.path, "proj"), project, secret);
    const mountpoint = await volumeMountpoint(`${project}_dbdata`);
    // Multi-MB, incompressible: kopia works long enough to draw progress and to be seen by `ps`.
    const blob = new Uint8Array(BLOB);
    for (let o = 0; o < BLOB; o += 65_536) crypto.getRandomValues(blob.subarray(o, o + 65_536));
    writeFileSync(join(mountpoint, "blob.bin"), blob);
    await Bun.sleep(1000);
    const pending = runCli(["backup", "--config", config, "--unit", project]);
    [backup, commandLines] = await Promise.all([pending, sampleCommandLines(pending)]);
  }, 240_000);

  afterAll(async () => {
    await compose(join(dir.path, "proj"), project, ["down", "-v", "-t", "1"]).catch(() => {});
    await run(["docker", "rm", "-f", failing], { check: false });
    await run(["docker", "volume", "rm", "-f", failing], { check: false });
    dir.remove();
  }, 60_000);

  const record = () => {
    const files = readdirSync(runsDir).filter((f) => f.endsWith(".json"));
    expect(files).toHaveLength(1);
    return JSON.parse(readFileSync(join(runsDir, files[0] ?? ""), "utf8"));
  };

  describe.skipIf(!compiled)("one backup run", () => {
    test("backup exits 0 with the summary line and the unit table; plain progress lines only", () => {
      expect(backup.exitCode).toBe(0);
      expect(backup.stderr).toContain("1 of 1 units OK");
      expect(backup.stderr).toMatch(
        new RegExp(`${project}: ${project}_dbdata done: \\d+ files, 28\\.\\d MiB`),
      );
      expect(backup.stdout).toMatch(/^UNIT\s+STATUS\s+SNAPSHOTS\s+SIZE\s+COLD\s+FROZEN\s+TIME\s+PROBLEM$/m);
      expect(backup.stdout).toMatch(new RegExp(`^${project}\\s+ok\\s+5/5\\s+28\\.\\d MiB\\s+\\S+`, "m"));
      // not a terminal: no redraws, no escape codes
      expect(backup.stderr).not.toContain("\r");
      expect(backup.stderr).not.toContain("\x1b[");
    });

    test("secrets never appear in argv (ps while the backup ran), stdout, stderr, the run record or any file written", () => {
      const password = readFileSync(join(dir.path, "kd", "repository.password"), "utf8").trim();
      expect(password.length).toBeGreaterThan(8);
      const kopiaRuns = commandLines.filter((l) => /\bkopia\b.*\bsnapshot create\b/.test(l));
      expect(kopiaRuns.length).toBeGreaterThan(0); // ps really saw the backup's kopia at work
      for (const l of commandLines) {
        expect(l).not.toContain(secret);
        expect(l).not.toContain(password);
      }
      for (const text of [backup.stdout, backup.stderr, JSON.stringify(record())]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(password);
      }
      // nor in any file kopi-docka or kopia wrote: run records, journal, kopia config and logs, staging
      const kd = join(dir.path, "kd");
      const written = [join(kd, "state"), join(kd, "cache", "kopia-logs"), join(kd, "cache", "staging")]
        .flatMap((d) => readdirSync(d, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile());
      expect(written.length).toBeGreaterThan(3);
      for (const e of written) {
        const text = readFileSync(join(e.parentPath, e.name), "utf8");
        expect(text).not.toContain(secret);
        expect(text).not.toContain(password);
      }
    });

    test("the run record: status, unit, stopped containers, snapshots with manifest sizes", () => {
      const r = record();
      expect(r).toMatchObject({ status: "ok", hostname: "kd-test-host", scope: "standard", errors: [] });
      expect(r.runId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
      const [u] = r.units;
      expect(r.units).toHaveLength(1);
      expect(u).toMatchObject({ name: project, status: "ok", restartFailed: [], errors: [] });
      expect(u.stopped.sort()).toEqual([`${project}_app_1`, `${project}_db_1`]);
      expect(u.coldWindowMs).toBeGreaterThan(0);
      // The frozen window (all stopped → first start) lies inside the cold window.
      expect(u.frozenWindowMs).toBeGreaterThanOrEqual(0);
      expect(u.frozenWindowMs).toBeLessThanOrEqual(u.coldWindowMs);
      expect(u.sources.map((s: { type: string }) => s.type).sort()).toEqual([
        "bind",
        "bind",
        "networks",
        "recipe",
        "volume",
      ]);
      for (const s of u.sources) {
        expect(s.status).toBe("ok");
        expect(s.snapshotId).toMatch(/^[0-9a-f]{32}$/);
        expect(s.files).toBeGreaterThan(0);
      }
      const volume = u.sources.find((s: { type: string }) => s.type === "volume");
      // the manifest's rootEntry.summ.size: the blob plus the writer's few small files
      expect(volume.bytes).toBeGreaterThan(BLOB);
      expect(volume.bytes).toBeLessThan(BLOB + 100_000);
      expect(u.bytes).toBe(u.sources.reduce((n: number, s: { bytes: number }) => n + s.bytes, 0));
    });

    test("history: the run as a table, exit 0", async () => {
      const r = await runCli(["history", "--config", config]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/^RUN\s+UNIT\s+STATUS\s+SNAPSHOTS\s+SIZE\s+COLD\s+FROZEN\s+TIME\s+PROBLEM$/m);
      expect(r.stdout).toMatch(
        new RegExp(`^${record().runId}\\s+${project}\\s+ok\\s+5/5\\s+28\\.\\d MiB`, "m"),
      );
    });

    test("history --json: exactly the run record; --failed and another --unit: none", async () => {
      const r = await runCli(["history", "--config", config, "--json"]);
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([record()]);
      const failed = await runCli(["history", "--config", config, "--json", "--failed"]);
      expect(JSON.parse(failed.stdout)).toEqual([]);
      const other = await runCli(["history", "--config", config, "--json", "--unit", "no-such-unit"]);
      expect(JSON.parse(other.stdout)).toEqual([]);
    });

    test("backup --dry-run --json: sizes walked now and the last snapshot's size per source", async () => {
      const r = await runCli(["backup", "--config", config, "--unit", project, "--dry-run", "--json"]);
      expect(r.exitCode).toBe(0);
      const plan = JSON.parse(r.stdout);
      const volume = plan.units[0].sources.find((s: { type: string }) => s.type === "volume");
      const last = record().units[0].sources.find((s: { type: string }) => s.type === "volume");
      // the frozen writer changed nothing since; the walk also counts the symlink's 9 bytes, kopia does not
      expect(Math.abs(volume.sizeBytes - last.bytes)).toBeLessThan(100);
      expect(volume.lastSnapshotBytes).toBe(last.bytes);
      expect(plan.estimatedBytes).toBeGreaterThanOrEqual(volume.sizeBytes);
      expect(plan.units[0].predictedColdWindowMs).toBe(record().units[0].coldWindowMs);
      // What retention at the end of the run would remove or hold, read from the repository (nothing yet).
      expect(plan.retention).toEqual({ remove: [], skipped: [], held: [] });
    });
  });

  test.skipIf(!compiled || !hasTmux || !available.docker)(
    "on a terminal: one progress line per source, bytes and files hashed/cached, elapsed",
    async () => {
      const t = terminal(uniqueName("kdtprog"), { width: 220, height: 60 });
      try {
        await t.start(`env -u CI NO_COLOR=1 ${BINARY} backup --config ${config} --unit ${project}`);
        const text = await t.waitFor("EXIT=", 180_000, 250);
        if (process.env.KDT_SHOW_SCREEN) console.error(text);
        expect(text).toContain("EXIT=0");
        // second run: the unchanged blob is cached, not read again
        const line =
          text.split("\n").find((l) => l.includes(`${project} volume ${project}_dbdata: `)) ?? text;
        expect(line).toMatch(
          /: [\d.]+ \S*B hashed \(\d+ files\), 2\d\.\d MiB cached \(\d+ files\), [\d.]+ \S*B uploaded, [\d.]+s \(unit [\d.]+s\)$/,
        );
        for (const what of ["recipe", "networks", "bind"]) expect(text).toContain(`${project} ${what} `);
        // the standing progress line replaces the "snapshot of …" and "done" log lines
        expect(text).not.toContain(" done: ");
      } finally {
        await t.kill();
      }
    },
    240_000,
  );

  test.skipIf(!compiled || !hasTmux || !available.docker)(
    "Ctrl+C on a terminal while kopia reads the volume: exit 130, the unit's containers run again, lock free",
    async () => {
      const mountpoint = await volumeMountpoint(`${project}_dbdata`);
      // 400 MB kopia has never seen: seconds of hashing, so the key lands inside the cold window.
      const fd = openSync(join(mountpoint, "big.bin"), "w");
      const chunk = new Uint8Array(1 << 20);
      for (let i = 0; i < 400; i++) {
        for (let o = 0; o < chunk.length; o += 65_536) crypto.getRandomValues(chunk.subarray(o, o + 65_536));
        writeSync(fd, chunk);
      }
      closeSync(fd);
      const t = terminal(uniqueName("kdtctrlc"), { width: 220, height: 60 });
      try {
        await t.start(`env -u CI NO_COLOR=1 ${BINARY} backup --config ${config} --unit ${project}`);
        await t.waitFor(`${project} volume ${project}_dbdata: `, 120_000, 50);
        await t.keys("C-c");
        expect(await t.waitFor("EXIT=", 120_000, 250)).toContain("EXIT=130");
      } finally {
        await t.kill();
      }
      const states = await run([
        ...["docker", "ps", "-a", "--filter", `label=com.docker.compose.project=${project}`],
        ...["--format", "{{.Names}} {{.State}}"],
      ]);
      const lines = states.stdout.trim().split("\n");
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const l of lines) expect(l).toEndWith(" running");
      expect(existsSync(join(dir.path, "kd", "kopi-docka.lock"))).toBe(false);
    },
    240_000,
  );

  test.skipIf(!compiled)(
    "one unit failing (pre-backup hook) and one OK: exit 3, the summary names the unit and the cause",
    async () => {
      writeFileSync(hook, "#!/bin/sh\necho 'not today' >&2\nexit 3\n");
      chmodSync(hook, 0o755);
      await run([
        "docker",
        "run",
        "-d",
        "--name",
        failing,
        "-v",
        `${failing}:/data`,
        TEST_IMAGE,
        "sleep",
        "3600",
      ]);
      const r = await runCli(["backup", "--config", config, "--unit", project, "--unit", failing]);
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toContain("1 of 2 units OK");
      expect(r.stderr).toContain(`${failing}: failed (pre_hook:`);
      expect(r.stdout).toMatch(new RegExp(`^${project}\\s+ok\\s+5/5`, "m"));
      expect(r.stdout).toMatch(new RegExp(`^${failing}\\s+failed\\s+0/\\d+\\s+0 B`, "m"));
      const failed = JSON.parse((await runCli(["history", "--config", config, "--json", "--failed"])).stdout);
      // newest first: this partial run, then the one Ctrl+C cut short (the test before this one)
      expect(failed.map((r: { status: string; interrupted?: string }) => [r.status, r.interrupted])).toEqual([
        ["partial", undefined],
        ["failed", "SIGINT"],
      ]);
    },
    240_000,
  );
});
