import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createDocker } from "../../src/core/docker/docker.ts";
import { createKopia } from "../../src/core/kopia/kopia.ts";
import { readPassword } from "../../src/core/kopia/password.ts";
import { createBunRunner } from "../../src/core/process/runner.ts";
import { describeReal, run, TEST_IMAGE, tempDir, uniqueName, volumeMountpoint } from "../helpers/env.ts";
import { tempKopia } from "../helpers/kopia.ts";
import { describeTree } from "../helpers/tree.ts";

describeReal("foundation: a real container's volume through real kopia", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-roundtrip-");
  const volume = uniqueName("kd-rt-vol");
  const container = uniqueName("kd-rt-c");
  const runner = createBunRunner();
  const { kopia, repo, open } = tempKopia(dir.path, { runner });
  let mountpoint = "";

  beforeAll(async () => {
    // A container writes files with different owners, modes, a symlink and an empty dir into its volume.
    await run(["docker", "volume", "create", volume]);
    await run([
      "docker",
      "run",
      "-d",
      "--name",
      container,
      "-v",
      `${volume}:/data`,
      TEST_IMAGE,
      "sh",
      "-c",
      "mkdir -p /data/sub/empty && echo hello > /data/a.txt && head -c 300000 /dev/urandom > /data/sub/blob.bin && " +
        "chown 1000:1000 /data/sub/blob.bin && chmod 640 /data/sub/blob.bin && ln -s a.txt /data/link && " +
        "touch -d '2020-01-02 03:04:05' /data/a.txt && sleep 3600",
    ]);
    // The files are written by the container's first command; wait until the last one exists.
    for (let i = 0; i < 100; i++) {
      if (
        (await run(["docker", "exec", container, "test", "-L", "/data/link"], { check: false })).exitCode ===
        0
      )
        break;
      await Bun.sleep(100);
    }
    mountpoint = await volumeMountpoint(volume);
  });

  afterAll(async () => {
    await run(["docker", "rm", "-f", container], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  });

  test("the container runs from the local image", async () => {
    const v = await createDocker(runner).requireDaemon();
    expect(v.server).toBeTruthy();
    const state = await run(["docker", "inspect", "-f", "{{.State.Running}}", container]);
    expect(state.stdout.trim()).toBe("true");
  });

  test("repository create, snapshot create, snapshot restore: the same bytes, modes, owners, times", async () => {
    const first = await open();
    expect(first.created).toBe(true);
    expect(statSync(repo.password_file).mode & 0o777).toBe(0o600);
    // a second call finds the connection and does nothing
    expect((await open()).created).toBe(false);

    const manifest = await kopia.snapshotCreate(mountpoint, {
      overrideSource: `kopi-docka@kd-test-host:/kopi-docka/test/volumes/${volume}`,
      tags: { type: "volume", unit: "test", volume },
    });
    expect(manifest.incomplete).toBeUndefined();
    expect(manifest.rootEntry?.summ?.numFailed ?? 0).toBe(0);
    expect(manifest.source).toEqual({
      host: "kd-test-host",
      userName: "kopi-docka",
      path: `/kopi-docka/test/volumes/${volume}`,
    });
    expect(manifest.tags).toMatchObject({ "tag:type": "volume", "tag:volume": volume });

    const listed = await kopia.snapshotList();
    expect(listed.map((m) => m.id)).toContain(manifest.id);

    const target = join(dir.path, "restored");
    await kopia.snapshotRestore(manifest.id, target);
    expect(describeTree(target)).toEqual(describeTree(mountpoint));
    expect(readFileSync(join(target, "a.txt"), "utf8")).toBe("hello\n");
    expect(statSync(join(target, "sub", "blob.bin")).uid).toBe(1000);
  });

  test("the password never appears in kopia's argv", async () => {
    const seen: string[][] = [];
    const spy = createKopia(createBunRunner({ onSpawn: (a) => seen.push([...a]) }), kopia.options);
    await spy.status();
    const password = readPassword(join(dir.path, "password"));
    expect(seen.length).toBeGreaterThan(0);
    for (const argv of seen) expect(argv.join(" ")).not.toContain(password);
  });
});
