import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createJournal } from "../../src/core/containers/journal.ts";
import { runCli } from "../helpers/cli.ts";
import { COMPOSES, runCompose } from "../helpers/compose.ts";
import {
  describeReal,
  QUICK_STOP,
  run,
  TEST_IMAGE,
  tempDir,
  uniqueName,
  volumeMountpoint,
  writeTestConfig,
} from "../helpers/env.ts";

// A restore whose volume comes back with fewer files than its snapshot holds (two names that are not
// UTF-8 become one) ends with exit 3. With --start it must not bring the project up on that data: every
// container of it stays stopped and held (journal `hold`, restart policy `no`), the other volume's data
// is restored all the same, and the message says what is held and how to go on.
const cmp = COMPOSES[0];
if (cmp)
  describeReal(
    "restore --start of a compose project whose volume comes back short: held, exit 3",
    ["docker", "kopia", "image", cmp.need],
    () => {
      const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
      const dir = tempDir("kd-partial-hold-");
      const project = uniqueName("kdpartial").replace(/-/g, "");
      const stack = join(dir.path, "app");
      const composeFile = join(stack, "docker-compose.yml");
      const config = writeTestConfig(dir.path, `[backup]\nstop_timeout = 2\nstart_timeout = 20\n${cmp.toml}`);
      const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
      const compose = (...a: string[]) =>
        runCompose(cmp, ["-p", project, "-f", composeFile, ...a], { cwd: stack });
      const app = cmp.container(project, "app");
      const web = cmp.container(project, "web");
      const inspect = async (name: string, format: string) =>
        (await run(["docker", "inspect", "-f", format, name])).stdout.trim();
      /** A file read through the (stopped) container: `docker cp` needs no process in it. */
      const read = async (name: string, path: string) =>
        (await run(["sh", "-c", `docker cp ${name}:${path} - | tar -xO`])).stdout;

      beforeAll(async () => {
        mkdirSync(stack, { recursive: true });
        const service = (volume: string, restart: string) =>
          `    image: ${TEST_IMAGE}\n    command: ["sh", "-c", "${QUICK_STOP}"]\n    restart: ${restart}\n    volumes: ["${volume}:/data"]\n`;
        writeFileSync(
          composeFile,
          `version: "3"\nservices:\n  app:\n${service("data", "always")}    depends_on: [web]\n  web:\n${service("www", '"no"')}` +
            "volumes:\n  data: {}\n  www: {}\n",
        );
        await compose("up", "-d");
        const data = await volumeMountpoint(`${project}_data`);
        writeFileSync(Buffer.from(`${data}/a\xff`, "latin1"), "x".repeat(10));
        writeFileSync(Buffer.from(`${data}/a\xfe`, "latin1"), "y".repeat(22));
        writeFileSync(join(data, "ok"), "data at backup\n");
        writeFileSync(join(await volumeMountpoint(`${project}_www`), "index"), "www at backup\n");
        const r = await cli("backup", "--unit", project);
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      }, 180_000);

      afterAll(async () => {
        await compose("down", "-v").catch(() => {});
        dir.remove();
      }, 120_000);

      test("in place, running: nothing started, every container held with policy no; the data restored", async () => {
        writeFileSync(join(await volumeMountpoint(`${project}_www`), "index"), "www changed\n");
        writeFileSync(join(await volumeMountpoint(`${project}_data`), "ok"), "data changed\n");
        const r = await cli("restore", "--unit", project, "--latest", "--start", "--yes", "--json");
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 3 });
        const out = JSON.parse(r.stdout);
        expect(out.incomplete).toHaveLength(1);
        expect(out.started).toEqual([]);
        expect(out.held).toEqual([web, app]);
        expect(r.stderr).toContain(`volume ${project}_data: kopia restored 2 of the 3 files`);
        expect(r.stderr).toContain(`held, not started: ${web}, ${app}`);
        expect(r.stderr).toContain(`docker start ${web} ${app}`);
        expect(r.stderr).toContain(`kopi-docka restore --unit ${project} --run ${out.undoPoint}`);
        for (const c of [app, web]) expect(await inspect(c, "{{.State.Running}}")).toBe("false");
        expect(await inspect(app, "{{.HostConfig.RestartPolicy.Name}}")).toBe("no");
        const held = createJournal(join(dir.path, "state", "journal")).entries();
        expect(
          held.map((e) => [e.containerName.replace(/^\//, ""), e.hold?.includes("fewer files")]).sort(),
        ).toEqual(
          [
            [app, true],
            [web, true],
          ].sort(),
        );
        expect(held.find((e) => e.containerName.endsWith(app))?.heldPolicy).toEqual({
          name: "always",
          maximumRetryCount: 0,
        });
        // What came back is the backup's, read through the containers.
        expect(await read(web, "/data/index")).toBe("www at backup\n");
        expect(await read(app, "/data/ok")).toBe("data at backup\n");
        const names = readdirSync(await volumeMountpoint(`${project}_data`), { encoding: "buffer" });
        expect(names.map((b) => b.toString("latin1")).sort()).toEqual(["a\xef\xbf\xbd", "ok"]);

        // The next backup refuses the held unit; the admin's start, in the order given, ends the hold.
        const b = await cli("backup", "--unit", project);
        expect(b.exitCode).toBe(1);
        await run(["docker", "start", web, app]);
        const rec = await cli("recover");
        expect(rec.exitCode).toBe(0);
        expect(await inspect(app, "{{.HostConfig.RestartPolicy.Name}}")).toBe("always");
        expect(createJournal(join(dir.path, "state", "journal")).entries()).toEqual([]);
        expect(await inspect(app, "{{.State.Running}}")).toBe("true");
      }, 300_000);

      test("gone (compose down): nothing created; the restore of the recipe alone starts it on that data", async () => {
        await compose("down");
        const r = await cli("restore", "--unit", project, "--latest", "--start", "--yes", "--json");
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 3 });
        const out = JSON.parse(r.stdout);
        expect(out.started).toEqual([]);
        expect(out.held).toEqual([]);
        const resume = `kopi-docka restore --unit ${project} --run ${out.heldNext[0].split(" --run ")[1].split(" ")[0]} --only recipe --start --yes`;
        expect(out.heldNext[0]).toContain(resume);
        expect(r.stderr).toContain(resume);
        expect(
          (
            await run(["docker", "ps", "-aq", "--filter", `label=com.docker.compose.project=${project}`])
          ).stdout.trim(),
        ).toBe("");
        const go = await cli(...resume.split(" ").slice(1));
        expect({ exit: go.exitCode, stderr: go.stderr }).toMatchObject({ exit: 0 });
        expect((await run(["docker", "exec", app, "cat", "/data/ok"])).stdout).toBe("data at backup\n");
        expect((await run(["docker", "exec", web, "cat", "/data/index"])).stdout).toBe("www at backup\n");
      }, 300_000);
    },
  );
