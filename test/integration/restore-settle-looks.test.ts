import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import {
  describeReal,
  QUICK_STOP,
  run,
  startContainer,
  tempDir,
  uniqueName,
  volumeMountpoint,
  writeTestConfig,
} from "../helpers/env.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };
/**
 * Counts its starts in its volume and crashes 2.5 s into each while the count is below 3, then runs:
 * restored with the count at 0 it crashes on its first two starts after the restore, an app whose
 * database takes two of docker's restart delays to accept connections. The crashes fall between the
 * restore's looks, 3 s apart: another incarnation at the first and second look, the last one still
 * running at the third. 2.5 s, not backup-settle's 2: the restore's first look is timed from when its
 * wait saw the container run, which may come a little after the start. Without the file (count taken
 * as 2) it runs at once.
 */
const CRASHES_TWICE_ON_ZERO = [
  "n=$(($(cat /data/starts 2>/dev/null || echo 2) + 1))",
  "echo $n > /data/starts",
  'if [ "$n" -lt 3 ]; then sleep 2.5; exit 1; fi',
  QUICK_STOP,
].join("; ");

// The restore's twin of backup-settle's "crashed twice, a look apart, then runs": an in-place restore
// starts the container again and looks at it `settleLooks(start_timeout)` times, SETTLE_MS apart.
// Three looks see it run steadily after its policy's two restarts (exit 0, a warning); two end while
// it is still being started again (exit 4, crash-looping), so the pass needs the third look.
describeReal(
  "restore: a container that crashes twice on its restored data, then runs",
  ["docker", "kopia", "image"],
  () => {
    const dir = tempDir("kd-restore-looks-");
    // 9 s to start: three looks; 5 s: two (settleLooks takes at least two). One repository for both.
    const threeLooks = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\nstart_timeout = 9\n");
    const twoLooks = join(dir.path, "two-looks.toml");
    writeFileSync(
      twoLooks,
      readFileSync(threeLooks, "utf8").replace("start_timeout = 9", "start_timeout = 5"),
    );
    const name = uniqueName("s22rl-twice");
    const volume = `${name}-v`;
    const payload = randomBytes(64 * 1024);
    const sha = new Bun.CryptoHasher("sha256").update(payload).digest("hex");
    const restore = (config: string) =>
      runCli(["restore", "--config", config, "--unit", name, "--latest", "--yes", "--json"], { env });
    const shaInside = async () =>
      (await run(["docker", "exec", name, "sha256sum", "/data/payload"])).stdout.split(" ")[0];
    const runState = async () =>
      (
        await run(["docker", "inspect", "-f", "{{.State.Running}} {{.State.Restarting}}", name])
      ).stdout.trim();

    beforeAll(async () => {
      await startContainer(name, volume, ["--restart", "always"], CRASHES_TWICE_ON_ZERO);
      // Only a running container is a unit: the count is set to 0 while it runs, so the snapshot holds 0
      // and the backup's own start crashes twice too (its three looks see it run: exit 0).
      await run(["docker", "exec", name, "sh", "-c", "echo 0 > /data/starts"]);
      writeFileSync(join(await volumeMountpoint(volume), "payload"), payload);
      const b = await runCli(["backup", "--config", threeLooks, "--unit", name], { env });
      expect({ exit: b.exitCode, stderr: b.stderr }).toMatchObject({ exit: 0 });
    }, 120_000);

    afterAll(async () => {
      await run(["docker", "rm", "-f", name], { check: false });
      await run(["docker", "volume", "rm", "-f", volume], { check: false });
      dir.remove();
    }, 60_000);

    test("start_timeout 9 (three looks): exit 0, a warning with both restarts, running on the restored bytes", async () => {
      // Running past its crashes (the count at 3), on data changed since the backup.
      expect(await runState()).toBe("true false");
      expect((await run(["docker", "exec", name, "cat", "/data/starts"])).stdout.trim()).toBe("3");
      await run(["docker", "exec", name, "sh", "-c", "echo changed > /data/payload"]);
      const r = await restore(threeLooks);
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      const out = JSON.parse(r.stdout);
      expect(out.volumes).toEqual([volume]);
      expect(out.notRunning).toBeUndefined();
      const warning = `${name} exited after the start and was restarted 2 times by its restart policy; it runs now (see why: docker logs ${name})`;
      expect(out.warnings).toContain(warning);
      expect(r.stderr).toContain(warning);
      expect(await runState()).toBe("true false");
      expect(await shaInside()).toBe(sha);
      // Restored at 0, started three times since: two crashes, then the one that runs.
      expect((await run(["docker", "exec", name, "cat", "/data/starts"])).stdout.trim()).toBe("3");
    }, 120_000);

    test("control, start_timeout 5 (two looks): exit 4, named crash-looping, its data restored all the same", async () => {
      await run(["docker", "exec", name, "sh", "-c", "echo changed > /data/payload"]);
      const r = await restore(twoLooks);
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 4 });
      const out = JSON.parse(r.stdout);
      expect(out.restartFailed).toEqual([name]);
      expect(out.notRunning).toMatchObject([
        { name, state: "restarting", next: `see why: docker logs ${name}` },
      ]);
      expect(out.notRunning[0].reason).toContain("at every look since its start: it is crash-looping");
      expect(r.stderr).toContain(`not running: ${name} (restarting)`);
      expect(r.stderr).toContain("it is crash-looping");
      // The third incarnation the two looks did not wait for runs on the restored bytes.
      expect(await shaInside()).toBe(sha);
    }, 120_000);
  },
);
