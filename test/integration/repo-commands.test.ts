import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loseIndexBlob } from "../helpers/blobs.ts";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

// `repo …` on a filesystem repository: status, change-password, verify (and damage), maintenance,
// selftest, disconnect. One container, one backup, shared across the file.
describeReal("repo commands on a real repository", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-repo-cmd-");
  const name = uniqueName("kdt-repocmd");
  const config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");
  // a speed limit, to be seen in `repo status` and in kopia's connection
  writeFileSync(
    config,
    readFileSync(config, "utf8").replace("[repository]\n", "[repository]\nmax_upload_speed = 50000000\n"),
  );
  const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
  const pwFile = join(dir.path, "repository.password");
  const kopiaConfig = join(dir.path, "state", "kopia", "repository.config");

  beforeAll(async () => {
    await startContainer(
      name,
      `${name}-v`,
      [],
      `echo data > /data/d.txt; trap 'exit 0' TERM; while true; do sleep 0.2; done`,
    );
    const r = await cli("backup", "--unit", name);
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
  }, 180_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", `${name}-v`], { check: false });
    dir.remove();
  }, 60_000);

  test("status: backend, location, connected, snapshots, units, size, owner, speed limits", async () => {
    const r = await cli("repo", "status", "--json");
    expect(r.exitCode).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({
      backend: "filesystem",
      location: join(dir.path, "repository"),
      connected: true,
      units: 1,
      maintenanceOwner: "kopi-docka@kd-test-host",
      maxUploadSpeed: 50_000_000,
      maxDownloadSpeed: 0,
    });
    expect(s.snapshots).toBeGreaterThan(0);
    expect(s.sizeBytes).toBeGreaterThan(0);
    const text = (await cli("repo", "status")).stdout;
    expect(text).toMatch(/^max upload speed:\s+47\.7 MiB\/s$/m);
    expect(text).toMatch(/^max download speed:\s+unlimited$/m);
    // kopia keeps the limit in its connection
    expect(JSON.parse(readFileSync(kopiaConfig, "utf8")).storage.config.maxUploadSpeedBytesPerSecond).toBe(
      50_000_000,
    );
  }, 120_000);

  test("change-password: kopia's and the file's change together; the old one no longer opens", async () => {
    const old = readFileSync(pwFile, "utf8").trim();
    const newFile = join(dir.path, "new.password");
    writeFileSync(newFile, "a-brand-new-password\n", { mode: 0o644 });
    const open = await cli("repo", "change-password", "--new-password-file", newFile);
    expect(open.exitCode).toBe(2); // readable by others: refused, nothing changed
    expect(open.stderr).toContain(`${newFile} is readable by other users`);
    expect(readFileSync(pwFile, "utf8").trim()).toBe(old);

    chmodSync(newFile, 0o600);
    const r = await cli("repo", "change-password", "--new-password-file", newFile);
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(readFileSync(pwFile, "utf8").trim()).toBe("a-brand-new-password");
    expect(existsSync(`${pwFile}.new`)).toBe(false);
    expect(`${r.stdout}${r.stderr}`).not.toContain("a-brand-new-password");
    expect(r.stdout).toContain("a DR bundle exported before holds the old password");
    const withOld = await run(["kopia", "--config-file", kopiaConfig, "repository", "status"], {
      check: false,
      env: { KOPIA_PASSWORD: old },
    });
    expect(withOld.stderr).toContain("invalid repository password");
    expect((await cli("backup", "--unit", name)).exitCode).toBe(0);
  }, 180_000);

  test("maintenance --full runs as the owner; status shows the last run", async () => {
    const r = await cli("repo", "maintenance", "--full");
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    const s = JSON.parse((await cli("repo", "status", "--json")).stdout);
    expect(s.lastMaintenance).toMatchObject({ success: true });
  }, 180_000);

  test("maintenance --full after a lost index blob: refused before kopia runs, every blob kept; once back, it runs", async () => {
    const blobs = () =>
      readdirSync(join(dir.path, "repository"), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name));
    const before = blobs()
      .filter((p) => !p.includes("/_log"))
      .sort();
    const lost = join(dir.path, "lost-index");
    const index = await loseIndexBlob(
      join(dir.path, "repository"),
      lost,
      async () => (await cli("repo", "verify")).exitCode !== 0,
    );
    expect(index).toBeDefined();
    const r = await cli("repo", "maintenance", "--full");
    renameSync(lost, index?.path as string);
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 10 });
    expect(r.stderr).toContain("full maintenance was not run (it would delete the packs that index listed)");
    expect(r.stderr).toContain("index recover --commit");
    expect(
      blobs()
        .filter((p) => !p.includes("/_log"))
        .sort(),
    ).toEqual(before);
    const again = await cli("repo", "maintenance", "--full");
    expect({ exit: again.exitCode, stderr: again.stderr }).toMatchObject({ exit: 0 });
  }, 180_000);

  test("selftest: a round trip in a throwaway repository, nothing left behind", async () => {
    const r = await cli("repo", "selftest");
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(r.stdout).toContain("selftest passed");
    expect(readdirSync(join(dir.path, "cache", "selftest"))).toEqual([]);
  }, 120_000);

  test("verify: clean is exit 0; a damaged pack is exit 1 naming the snapshot", async () => {
    const ok = await cli("repo", "verify", "--percent", "100", "--json");
    expect({ exit: ok.exitCode, stderr: ok.stderr }).toMatchObject({ exit: 0 });
    expect(JSON.parse(ok.stdout).filesRead).toBeGreaterThan(0);
    const packs = readdirSync(join(dir.path, "repository", "p"), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
    for (const p of packs) {
      const b = readFileSync(p);
      b.fill(0, 40, Math.min(b.length, 120));
      writeFileSync(p, b);
    }
    await run(["rm", "-rf", join(dir.path, "cache", "kopia")]);
    const bad = await cli("repo", "verify", "--percent", "100");
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/the repository is damaged: \d+ error\(s\) in kopi-docka@kd-test-host:/);
  }, 180_000);

  test("disconnect keeps the marker: a backup then connects, and a vanished repository is exit 10, never re-created", async () => {
    const d = await cli("repo", "disconnect");
    expect({ exit: d.exitCode, stdout: d.stdout }).toMatchObject({
      exit: 0,
      stdout: expect.stringContaining("disconnected from"),
    });
    expect(existsSync(kopiaConfig)).toBe(false);
    const again = await cli("backup", "--unit", name);
    expect({ exit: again.exitCode, stderr: again.stderr }).toMatchObject({ exit: 0 });
    expect(again.stderr).not.toContain("creating a kopia repository");
    expect((await cli("repo", "disconnect")).exitCode).toBe(0);
    renameSync(join(dir.path, "repository"), join(dir.path, "repository.moved"));
    const r = await cli("backup", "--unit", name);
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 10 });
    expect(r.stderr).toContain("is the disk mounted?");
    expect(existsSync(join(dir.path, "repository"))).toBe(false);
  }, 120_000);
});
