import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  chownSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeCompose, runCompose } from "../helpers/compose.ts";
import { run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

/**
 * A clean-slate restore of a compose project whose files belong to a user (uid 1000), one of them
 * bind-mounted read-only into a container that runs as that user. The files came back 0600 root
 * with the backup's time (the recipe's staged copies), and the bound config, restored right by the
 * bind, was then moved to `.bak-…` and replaced by that copy: the app could no longer read it.
 */
describeCompose(
  "restore --start: a compose project's files keep their mode, owner and mtime",
  ["docker", "kopia", "image"],
  (cmp) => {
    const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
    const dir = tempDir("kd-modes-");
    const project = uniqueName("kdm").replace(/-/g, "");
    const stack = join(dir.path, "app");
    const config = writeTestConfig(dir.path, `[backup]\nstop_timeout = 2\n${cmp.toml}`);
    const app = cmp.container(project, "app");
    const then = new Date("2025-02-03T04:05:06.000Z");
    /** Each file's mode, owner and mtime as the admin left them. */
    const files = {
      "docker-compose.yml": { mode: 0o644, uid: 1000, gid: 1000 },
      "cfg.ini": { mode: 0o640, uid: 1000, gid: 1000 },
      "app.conf": { mode: 0o604, uid: 1000, gid: 1001 },
      ".env": { mode: 0o600, uid: 0, gid: 0 },
    } as const;
    const onHost = (name: string) => {
      const st = statSync(join(stack, name));
      return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtimeMs };
    };
    const teardown = async () => {
      await run(["docker", "rm", "-f", app], { check: false });
      await run(["docker", "network", "rm", `${project}_default`], { check: false });
    };

    beforeAll(async () => {
      mkdirSync(stack, { recursive: true });
      writeFileSync(
        join(stack, "docker-compose.yml"),
        `version: "3"\nservices:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n` +
          '    user: "1000:1000"\n    volumes:\n      - ./cfg.ini:/etc/cfg.ini:ro\n',
      );
      writeFileSync(join(stack, "cfg.ini"), "[scrape]\ninterval=15s\n");
      writeFileSync(join(stack, "app.conf"), "level=info\n");
      writeFileSync(join(stack, ".env"), "MODE=test\n");
      for (const [name, f] of Object.entries(files)) {
        chownSync(join(stack, name), f.uid, f.gid);
        Bun.spawnSync(["chmod", f.mode.toString(8), join(stack, name)]);
        utimesSync(join(stack, name), then, then);
      }
      await runCompose(cmp, ["-p", project, "-f", join(stack, "docker-compose.yml"), "up", "-d"], {
        cwd: stack,
      });
      const read = await run(["docker", "exec", app, "cat", "/etc/cfg.ini"]);
      expect(read.stdout).toContain("interval=15s");
      const r = await runCli(["backup", "--config", config, "--unit", project], { env });
      expect(r.exitCode).toBe(0);
    }, 240_000);

    afterAll(async () => {
      await teardown();
      dir.remove();
    }, 120_000);

    test("project directory moved away: each file comes back as it was, the bound one only from its bind", async () => {
      await teardown();
      renameSync(stack, `${stack}.moved`);
      const r = await runCli(
        ["restore", "--config", config, "--unit", project, "--latest", "--start", "--yes"],
        { env },
      );
      expect(r.exitCode).toBe(0);
      expect(r.stderr).not.toContain("was there");
      expect(readdirSync(stack).filter((f) => f.includes(".bak-"))).toEqual([]);
      for (const [name, f] of Object.entries(files))
        expect({ name, ...onHost(name) }).toEqual({ name, ...f, mtime: then.getTime() });
      // The app, as uid 1000, reads its config again; it sees the file's own mode and owner.
      const inside = await run([
        "docker",
        "exec",
        app,
        "sh",
        "-c",
        "stat -c '%a %u:%g' /etc/cfg.ini && cat /etc/cfg.ini",
      ]);
      expect(inside.stdout).toBe("640 1000:1000\n[scrape]\ninterval=15s\n");
      rmSync(`${stack}.moved`, { recursive: true, force: true });
    }, 240_000);
  },
);
