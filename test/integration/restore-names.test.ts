import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
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
const MiB = 1024 * 1024;
// The longest name a Linux filesystem takes; kopia's atomic temp name adds up to 10 digits to it.
const LONG = "L".repeat(255);
const LONG_DIR = "D".repeat(246);
const SPARSE = "sparse.img";

// Names kopia 0.23.1 cannot write with `--write-files-atomically` (a 255-byte file, and one of 246 in a
// directory of 246), a 50 MiB sparse file, and in a second volume two names that differ only in bytes
// that are not UTF-8: kopia keeps names as JSON strings, so both are `a\u{fffd}` on restore.
describeReal(
  "restore: long names, sparse files, names that are not UTF-8",
  ["docker", "kopia", "image"],
  () => {
    const dir = tempDir("kd-restore-names-");
    const name = uniqueName("kdt-restore-names");
    const vol = `${name}-v`;
    const clash = `${name}-w`;
    const config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");
    const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
    let atBackup: ReturnType<typeof describeTree>;

    beforeAll(async () => {
      await startContainer(name, vol, ["-v", `${clash}:/clash`]);
      const mp = await volumeMountpoint(vol);
      writeFileSync(join(mp, LONG), "long\n");
      mkdirSync(join(mp, LONG_DIR));
      writeFileSync(join(mp, LONG_DIR, "D".repeat(246)), "nested\n");
      writeFileSync(join(mp, SPARSE), "");
      truncateSync(join(mp, SPARSE), 50 * MiB);
      writeFileSync(join(mp, "ok"), "ok\n");
      const w = await volumeMountpoint(clash);
      writeFileSync(Buffer.from(`${w}/a\xff`, "latin1"), "x".repeat(10));
      writeFileSync(Buffer.from(`${w}/a\xfe`, "latin1"), "y".repeat(22));
      writeFileSync(join(w, "ok"), "ok\n");
      atBackup = describeTree(mp);
      const r = await cli("backup", "--unit", name);
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    }, 180_000);

    afterAll(async () => {
      await run(["docker", "rm", "-f", name], { check: false });
      await run(["docker", "volume", "rm", "-f", vol, clash], { check: false });
      dir.remove();
    }, 60_000);

    test("in place over existing data: restored beside it and swapped in; its undo point restores too", async () => {
      const mp = await volumeMountpoint(vol);
      rmSync(join(mp, LONG));
      writeFileSync(join(mp, "added"), "after the backup\n");
      // A link planted where the backup has a file: replaced with the rest, never written through.
      const outside = join(dir.path, "outside");
      writeFileSync(outside, "host file\n");
      rmSync(join(mp, "ok"));
      symlinkSync(outside, join(mp, "ok"));
      const before = describeTree(mp);
      const r = await cli("restore", "--unit", name, "--latest", "--volume", vol, "--yes", "--json");
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      expect(r.stderr).toContain("(a file name too long for its temp file); restoring it again");
      expect(describeTree(mp)).toEqual(atBackup);
      expect(statSync(join(mp, SPARSE)).blocks * 512).toBeLessThan(MiB);
      expect(readdirSync(dirname(mp)).filter((f) => f.includes(".kd-restore-"))).toEqual([]);
      expect(readFileSync(outside, "utf8")).toBe("host file\n");
      expect((await run(["docker", "exec", name, "cat", "/data/ok"])).stdout).toBe("ok\n");

      const undo = JSON.parse(r.stdout).undoPoint as string;
      const back = await cli("restore", "--unit", name, "--run", undo, "--volume", vol, "--yes");
      expect({ exit: back.exitCode, stderr: back.stderr }).toMatchObject({ exit: 0 });
      expect(describeTree(mp)).toEqual(before);
    }, 240_000);

    test("into a volume it creates: every name, sparse kept; two names that became one: exit 3, not started", async () => {
      await run(["docker", "rm", "-f", name]);
      await run(["docker", "volume", "rm", vol, clash]);
      const r = await cli("restore", "--unit", name, "--latest", "--start", "--yes", "--json");
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 3 });
      expect(r.stderr).not.toContain("restoring it again into a new directory");
      expect(r.stderr).toContain(`volume ${clash}: kopia restored 2 of the 3 files the snapshot holds`);
      expect(JSON.parse(r.stdout).incomplete).toHaveLength(1);
      const mp = await volumeMountpoint(vol);
      expect(describeTree(mp)).toEqual(atBackup);
      expect(statSync(join(mp, SPARSE)).blocks * 512).toBeLessThan(MiB);
      const w = readdirSync(await volumeMountpoint(clash), { encoding: "buffer" }).map((b) =>
        b.toString("latin1"),
      );
      expect(w.sort()).toEqual(["a\xef\xbf\xbd", "ok"]);
      // Nothing starts on data short of a file: --start left it uncreated, and says how to go on.
      expect(JSON.parse(r.stdout).started).toEqual([]);
      expect((await run(["docker", "ps", "-aq", "--filter", `name=^${name}$`])).stdout.trim()).toBe("");
      const resume = (JSON.parse(r.stdout).heldNext as string[]).find((l) => l.includes("--only recipe"));
      expect(resume).toContain(`kopi-docka restore --unit ${name} --run `);
      const go = await cli(...(resume ?? "").replace(/^.*: kopi-docka /, "").split(" "));
      expect({ exit: go.exitCode, stderr: go.stderr }).toMatchObject({ exit: 0 });
      expect((await run(["docker", "exec", name, "cat", "/data/ok"])).stdout).toBe("ok\n");
    }, 240_000);
  },
);
