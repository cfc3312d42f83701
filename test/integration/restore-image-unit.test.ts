import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import {
  describeReal,
  QUICK_STOP,
  run,
  startContainer,
  TEST_IMAGE,
  tempDir,
  uniqueName,
  writeTestConfig,
} from "../helpers/env.ts";

/**
 * A `kopi-docka.unit` label a container only inherits from an image is its builder's, not this host's:
 * at restore, as at discovery, it does not make the container a member of that unit. Unit APP was
 * backed up with its volume; now that volume is mounted only by container DB, whose image says
 * kopi-docka.unit=APP. Restoring APP in place would replace DB's data: refused as DB's volume.
 */
describeReal("restore: a unit label inherited from an untrusted image", ["docker", "kopia", "image"], () => {
  const env = { KOPI_DOCKA_TEST_SOURCE: "1" };
  const dir = tempDir("kd-imgunit-");
  const app = uniqueName("kdiu-app");
  const db = uniqueName("kdiu-db");
  const volume = `${app}-data`;
  const repo = `kopi-docka-test/unitlabel-${uniqueName("img").toLowerCase()}`;
  const config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");
  const trusted = join(dir.path, "trusted.toml");
  const restore = (file: string, ...extra: string[]) =>
    runCli(["restore", "--config", file, "--unit", app, "--latest", "--only", "volumes", ...extra], { env });
  const inVolume = async () =>
    (await run(["docker", "run", "--rm", "-v", `${volume}:/data`, TEST_IMAGE, "cat", "/data/f"])).stdout;
  const dbRunning = async () =>
    (await run(["docker", "inspect", "-f", "{{.State.Running}}", db])).stdout.trim() === "true";

  beforeAll(async () => {
    writeFileSync(trusted, `${readFileSync(config, "utf8")}trust_image_labels = ["${repo}"]\n`);
    writeFileSync(join(dir.path, "Dockerfile"), `FROM ${TEST_IMAGE}\nLABEL kopi-docka.unit=${app}\n`);
    await run(["docker", "build", "-q", "-t", `${repo}:1`, dir.path], { timeoutMs: 120_000 });
    await run(["docker", "volume", "create", volume]);
    await startContainer(app, volume);
    await run(["docker", "exec", app, "sh", "-c", "echo app-data > /data/f"]);
    const backup = await runCli(["backup", "--config", config, "--unit", app], { env });
    expect({ exit: backup.exitCode, stderr: backup.exitCode ? backup.stderr : "" }).toEqual({
      exit: 0,
      stderr: "",
    });
    await run(["docker", "rm", "-f", app]);
    await run([
      "docker",
      "run",
      "-d",
      "--name",
      db,
      "-v",
      `${volume}:/data`,
      `${repo}:1`,
      "sh",
      "-c",
      QUICK_STOP,
    ]);
    await run(["docker", "exec", db, "sh", "-c", "echo db-data > /data/f"]);
  }, 240_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", app, db], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    await run(["docker", "rmi", "-f", `${repo}:1`], { check: false });
    dir.remove();
  }, 120_000);

  test("in place: refused as the volume of unit DB; DB's data and DB untouched", async () => {
    const r = await restore(config, "--yes");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      `volume ${volume} on this host belongs to unit ${db} (mounted by ${db}), not ${app}`,
    );
    expect(await inVolume()).toBe("db-data\n");
    expect(await dbRunning()).toBe(true);
  }, 240_000);

  test("the image trusted (backup.trust_image_labels): DB is APP's, and the plan replaces the volume", async () => {
    const r = await restore(trusted, "--dry-run", "--json");
    expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
    const plan = JSON.parse(r.stdout) as { refusals: string[]; volumes: { name: string; action: string }[] };
    expect(plan.refusals).toEqual([]);
    expect(plan.volumes).toEqual([expect.objectContaining({ name: volume, action: "overwrite" })]);
  }, 240_000);

  test("the image removed since: whose label it is cannot be told, so still refused", async () => {
    // Docker deletes the image of a stopped container (`rmi -f`); a running one's is only untagged.
    const image = (await run(["docker", "inspect", "-f", "{{.Image}}", db])).stdout.trim();
    await run(["docker", "stop", "-t", "0", db]);
    await run(["docker", "rmi", "-f", image]);
    const r = await restore(config, "--yes");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      `volume ${volume} on this host belongs to an unknown unit (${db}'s image is gone, so whether its label kopi-docka.unit=${app} is its own`,
    );
    expect(await inVolume()).toBe("db-data\n");
  }, 240_000);
});
