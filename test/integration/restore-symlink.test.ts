import { afterAll, beforeAll, expect, test } from "bun:test";
import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import {
  describeReal,
  run,
  startContainer,
  tempDir,
  uniqueName,
  volumeMountpoint,
  writeTestConfig,
} from "../helpers/env.ts";
import { describeTree } from "../helpers/tree.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

// A container's bind-mounted directory and file are backed up for real; then the paths are swapped
// for symlinks to data outside them. kopia's `restore --delete-extra` would follow a symlinked target
// and delete what is there; a single-file restore would overwrite the link's target.
describeReal("restore: symlinks in a restore target are never followed", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-restore-link-");
  const name = uniqueName("kdt-restore-link");
  const volume = `${name}-v`;
  const data = join(dir.path, "data");
  const conf = join(dir.path, "conf", "app.conf");
  const outside = join(dir.path, "outside");
  const outsideFile = join(dir.path, "outside.conf");
  const config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");
  const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
  let atBackup: { data: ReturnType<typeof describeTree>; conf: ReturnType<typeof describeTree> };
  const outsideNow = () => ({ dir: describeTree(outside), file: describeTree(outsideFile) });
  let outsideBefore: ReturnType<typeof outsideNow>;

  beforeAll(async () => {
    mkdirSync(join(data, "sub"), { recursive: true });
    writeFileSync(join(data, "a.txt"), "a\n");
    writeFileSync(join(data, "sub", "b.txt"), "b\n");
    mkdirSync(join(dir.path, "conf"), { recursive: true });
    writeFileSync(conf, "listen = 8080\n");
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, "precious"), "not part of any backup\n");
    writeFileSync(outsideFile, "host file\n");
    await startContainer(name, data, ["-v", `${conf}:/etc/app.conf:ro`, "-v", `${volume}:/vol`]);
    await run([
      "docker",
      "exec",
      name,
      "sh",
      "-c",
      "mkdir /vol/sub && echo v > /vol/v.txt && echo w > /vol/sub/w",
    ]);
    atBackup = { data: describeTree(data), conf: describeTree(conf) };
    const r = await cli("backup", "--unit", name);
    expect(r.exitCode).toBe(0);
    outsideBefore = outsideNow();
  }, 180_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  test("links planted in a volume where the backup has files: replaced, never written through", async () => {
    const mp = await volumeMountpoint(volume);
    const atVolume = describeTree(mp);
    await run(["docker", "exec", name, "sh", "-c", "rm /vol/v.txt /vol/sub/w"]);
    symlinkSync(outsideFile, join(mp, "v.txt"));
    symlinkSync(join(outside, "precious"), join(mp, "sub", "w"));
    const r = await cli("restore", "--unit", name, "--latest", "--only", "volumes", "--yes");
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(outsideNow()).toEqual(outsideBefore);
    expect(describeTree(mp)).toEqual(atVolume);
  }, 120_000);

  test("a bind directory replaced by a symlink: refused, nothing outside deleted or written", async () => {
    renameSync(data, `${data}.real`);
    symlinkSync(outside, data);
    const r = await cli("restore", "--unit", name, "--latest", "--only", "binds", "--yes");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${data} is a symlink (to ${outside}) that the backup did not record`);
    expect(outsideNow()).toEqual(outsideBefore);
    expect(lstatSync(data).isSymbolicLink()).toBe(true);
    rmSync(data);
    renameSync(`${data}.real`, data);
  }, 120_000);

  test("a single-file bind replaced by a symlink: refused, the link's target keeps its content", async () => {
    renameSync(conf, `${conf}.real`);
    symlinkSync(outsideFile, conf);
    const r = await cli("restore", "--unit", name, "--latest", "--only", "binds", "--yes");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${conf} is a symlink (to ${outsideFile})`);
    expect(outsideNow()).toEqual(outsideBefore);
    rmSync(conf);
    renameSync(`${conf}.real`, conf);
  }, 120_000);

  test("a symlink above the target (its parent directory) counts too", async () => {
    const parent = join(dir.path, "conf");
    renameSync(parent, `${parent}.real`);
    mkdirSync(join(outside, "conf-dir"));
    writeFileSync(join(outside, "conf-dir", "app.conf"), "other\n");
    symlinkSync(join(outside, "conf-dir"), parent);
    const before = outsideNow();
    const r = await cli("restore", "--unit", name, "--latest", "--only", "binds", "--yes");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${parent} is a symlink`);
    expect(outsideNow()).toEqual(before);
    rmSync(parent);
    rmSync(join(outside, "conf-dir"), { recursive: true });
    renameSync(`${parent}.real`, parent);
  }, 120_000);

  test("a file where the directory was, and links inside: undo point first, restored exactly, outside untouched", async () => {
    rmSync(data, { recursive: true });
    writeFileSync(data, "a file now\n");
    const r = await cli("restore", "--unit", name, "--latest", "--only", "binds", "--yes", "--json");
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(JSON.parse(r.stdout).undoPoint).toMatch(/@restore-/);
    expect(describeTree(data)).toEqual(atBackup.data);
    expect(describeTree(conf)).toEqual(atBackup.conf);

    // Links inside the directory are replaced (kopia's --delete-extra), never written through.
    rmSync(join(data, "sub"), { recursive: true });
    symlinkSync(outside, join(data, "sub"));
    const again = await cli("restore", "--unit", name, "--latest", "--only", "binds", "--yes");
    expect(again.exitCode).toBe(0);
    expect(describeTree(data)).toEqual(atBackup.data);
    expect(outsideNow()).toEqual(outsideBefore);
    // The fresh siblings restored into and renamed into place are gone.
    const left = [...readdirSync(dir.path), ...readdirSync(join(dir.path, "conf"))];
    expect(left.filter((f) => f.includes(".kd-restore-"))).toEqual([]);
    const inside = await run(["docker", "exec", name, "cat", "/data/sub/b.txt", "/etc/app.conf"]);
    expect(inside.stdout).toBe("b\nlisten = 8080\n");
  }, 180_000);
});

// A bind source reached through a symlink at backup time (`/srv -> /mnt/disk/srv`, a common layout):
// kopia follows it, the recipe records where it led, and restore follows that link and no other.
describeReal("restore: a symlink the backup recorded is followed", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-restore-reclink-");
  const name = uniqueName("kdt-restore-reclink");
  const real = join(dir.path, "disk");
  const link = join(dir.path, "srv");
  const config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");
  const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
  let atBackup: ReturnType<typeof describeTree>;

  beforeAll(async () => {
    mkdirSync(join(real, "data"), { recursive: true });
    writeFileSync(join(real, "data", "a.txt"), "a\n");
    symlinkSync(real, link);
    await startContainer(name, `${link}/data`);
    atBackup = describeTree(join(real, "data"));
    expect((await cli("backup", "--unit", name)).exitCode).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    dir.remove();
  }, 60_000);

  test("restored through the recorded link; the link itself stays", async () => {
    writeFileSync(join(real, "data", "a.txt"), "changed\n");
    const r = await cli("restore", "--unit", name, "--latest", "--only", "binds", "--yes");
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(describeTree(join(real, "data"))).toEqual(atBackup);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  }, 120_000);

  test("the same link pointed elsewhere since: refused", async () => {
    const elsewhere = join(dir.path, "elsewhere");
    mkdirSync(join(elsewhere, "data"), { recursive: true });
    writeFileSync(join(elsewhere, "data", "other"), "x\n");
    rmSync(link);
    symlinkSync(elsewhere, link);
    const r = await cli("restore", "--unit", name, "--latest", "--only", "binds", "--yes");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("that the backup did not record");
    expect(readdirSync(join(elsewhere, "data"))).toEqual(["other"]);
  }, 120_000);
});
