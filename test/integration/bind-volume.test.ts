import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };
/** Every file under /data with its sha256, as the container sees it. */
const CHECKSUMS = "cd /data && find . -type f | sort | xargs sha256sum";

// Issue 14: a `local` volume with `o=bind` and a `device` is mounted by Docker only while a container
// uses it. The cold backup stops the container, so on main it snapshotted the empty mountpoint and
// reported success. The data must come from the device directory, and come back there.
describeReal(
  "a bind-device volume is backed up from its device and restored into it",
  ["docker", "kopia", "image"],
  () => {
    const dir = tempDir("kd-bindvol-");
    const name = uniqueName("kdt-bindvol");
    const volume = `${name}-v`;
    const device = join(dir.path, "device");
    const config = writeTestConfig(join(dir.path, "kd"), "[backup]\nstop_timeout = 2\n");
    const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
    let atBackup = "";

    beforeAll(async () => {
      mkdirSync(device);
      await run([
        ...["docker", "volume", "create", "--driver", "local"],
        ...["-o", "type=none", "-o", "o=bind", "-o", `device=${device}`, volume],
      ]);
      await startContainer(name, volume, [], QUICK_STOP);
      await run([
        ...["docker", "exec", name, "sh", "-c"],
        "echo hello > /data/a.txt && mkdir -p /data/sub/deep && head -c 300000 /dev/urandom > /data/sub/deep/blob",
      ]);
      atBackup = (await run(["docker", "exec", name, "sh", "-c", CHECKSUMS])).stdout;
      expect(atBackup).toContain("./sub/deep/blob");
    }, 120_000);

    afterAll(async () => {
      await run(["docker", "rm", "-f", name], { check: false });
      await run(["docker", "volume", "rm", "-f", volume], { check: false });
      dir.remove();
    }, 60_000);

    /** Every file under /data with its sha256, as a container mounting the volume sees it. */
    const seen = async () =>
      (await run(["docker", "run", "--rm", "-v", `${volume}:/data`, TEST_IMAGE, "sh", "-c", CHECKSUMS]))
        .stdout;

    test("list shows where the volume's data is read from", async () => {
      const r = await cli("list");
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain(`volume     ${volume} (bind of ${device})`);
    });

    test("backup, then volume and data gone, restore: the container sees the same bytes", async () => {
      const b = await cli("backup", "--unit", name, "--json");
      expect({ exit: b.exitCode, stderr: b.stderr }).toMatchObject({ exit: 0 });
      const record = JSON.parse(b.stdout);
      const snap = record.units[0].sources.find((s: { type: string }) => s.type === "volume");
      expect(snap).toMatchObject({ status: "ok", label: volume });
      expect(snap.files).toBeGreaterThanOrEqual(2);

      // A fresh host as far as this unit goes: container, volume and the device's contents gone.
      await run(["docker", "rm", "-f", name]);
      await run(["docker", "volume", "rm", volume]);
      rmSync(device, { recursive: true, force: true });

      const r = await cli("restore", "--unit", name, "--latest", "--only", "volumes", "--yes");
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      const opts = await run(["docker", "volume", "inspect", "-f", "{{json .Options}}", volume]);
      expect(JSON.parse(opts.stdout)).toEqual({ device, o: "bind", type: "none" });
      expect(readdirSync(device).sort()).toEqual(["a.txt", "sub"]);
      expect(await seen()).toBe(atBackup);
    }, 300_000);

    test("the volume removed, its device's files left: restore keeps them in an undo point first, which brings them back", async () => {
      // After the backup someone worked on, then `docker volume rm` (compose down -v): Docker removes the
      // volume, never its device's files.
      writeFileSync(join(device, "a.txt"), "newer\n");
      writeFileSync(join(device, "new.txt"), "made after the backup\n");
      await run(["docker", "volume", "rm", volume]);
      const dry = await cli("restore", "--unit", name, "--latest", "--only", "volumes", "--dry-run");
      expect(dry.stdout).toContain(`undo`);
      const r = await cli("restore", "--unit", name, "--latest", "--only", "volumes", "--yes", "--json");
      expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
      const undo = JSON.parse(r.stdout).undoPoint as string;
      expect(undo).toStartWith(`${name}@`);
      expect(await seen()).toBe(atBackup); // as a container mounting the volume sees it
      expect(readdirSync(device).sort()).toEqual(["a.txt", "sub"]);
      const back = await cli("restore", "--unit", name, "--run", undo, "--only", "volumes", "--yes");
      expect({ exit: back.exitCode, stderr: back.exitCode ? back.stderr : "" }).toEqual({
        exit: 0,
        stderr: "",
      });
      const inside = await run([
        "docker",
        "run",
        "--rm",
        "-v",
        `${volume}:/data`,
        TEST_IMAGE,
        "cat",
        "/data/a.txt",
        "/data/new.txt",
      ]);
      expect(inside.stdout).toBe("newer\nmade after the backup\n");
      rmSync(join(device, "new.txt"));
      writeFileSync(join(device, "a.txt"), "hello\n");
    }, 300_000);

    test("restore --as: the copy's volume keeps its data under the copy's dir, the original's device is untouched", async () => {
      writeFileSync(join(device, "a.txt"), "later\n");
      const copy = `${name.replace(/-/g, "")}cp`;
      const r = await cli("restore", "--unit", name, "--latest", "--only", "volumes", "--as", copy, "--yes");
      expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
      const copyVolume = `${copy}_${volume}`;
      try {
        const opts = JSON.parse(
          (await run(["docker", "volume", "inspect", "-f", "{{json .Options}}", copyVolume])).stdout,
        );
        expect(opts.device).not.toBe(device);
        expect(readFileSync(join(opts.device, "a.txt"), "utf8")).toBe("hello\n");
        expect(readFileSync(join(device, "a.txt"), "utf8")).toBe("later\n");
      } finally {
        await run(["docker", "volume", "rm", "-f", copyVolume], { check: false });
      }
    }, 300_000);
  },
);
