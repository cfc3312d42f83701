import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDockerObjects } from "../helpers/cleanup.ts";
import { runCli } from "../helpers/cli.ts";
import { describeCompose, runCompose } from "../helpers/compose.ts";
import {
  describeReal,
  QUICK_STOP,
  run,
  runTestContainer,
  startContainer,
  TEST_IMAGE,
  tempDir,
  uniqueName,
  writeTestConfig,
} from "../helpers/env.ts";

// Restore refusals and the stop rule, through the real binary, docker and kopia: planRestore's unit
// tests hand-build the host state, these build the host and check what happened on it. A refusal is a
// UsageError: exit 2 (src/exit-codes.ts), "nothing was changed". One repository and one backup per
// describe serve its tests.
const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

/** `StartedAt running` of a container: a stop and a start change the first. */
const stateOf = async (name: string) =>
  (await run(["docker", "inspect", "-f", "{{.State.StartedAt}} {{.State.Running}}", name])).stdout.trim();
/** What a running container reads, from inside it. */
const inside = async (name: string, cmd: string) =>
  (await run(["docker", "exec", name, "sh", "-c", cmd])).stdout;

describeReal(
  "in-place restore: a reused volume name refused, a writer into a restored bind stopped",
  ["docker", "kopia", "image"],
  () => {
    const dir = tempDir("kd-refusals-");
    const config = writeTestConfig(join(dir.path, "kd"), "[backup]\nstop_timeout = 2\n");
    const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
    // Unit a keeps its data in a named volume; after the backup that name is b's.
    const a = uniqueName("kdt-ref-a");
    const av = `${a}-v`;
    const b = uniqueName("kdt-ref-b");
    // Unit u binds the directory `bind`; w (another unit) mounts a bind volume whose device is inside it.
    const u = uniqueName("kdt-ref-u");
    const bind = join(dir.path, "u-bind");
    const w = uniqueName("kdt-ref-w");
    const wv = `${w}-v`;

    beforeAll(async () => {
      await startContainer(a, av);
      await inside(a, "echo a-data > /data/f");
      mkdirSync(join(bind, "sub"), { recursive: true });
      await runTestContainer(u, ["-v", `${bind}:/data`]);
      await inside(u, "echo u-top > /data/top && echo backed-up > /data/sub/f");
      const r = await cli("backup", "--unit", a, "--unit", u);
      expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
    }, 240_000);

    afterAll(async () => {
      await removeDockerObjects([a, b, u, w], [av, wv]);
      dir.remove();
    }, 120_000);

    test("a's volume name now b's: refused naming both, b's data and b untouched, a not recreated", async () => {
      await removeDockerObjects([a], [av]);
      await startContainer(b, av); // a fresh volume under a's old name, b's own
      await inside(b, "echo b-data > /data/f");
      const before = await stateOf(b);
      const refusal = `volume ${av} on this host belongs to unit ${b} (mounted by ${b}), not ${a}`;
      // --dry-run shows the plan and then ends as the run would: exit 2, not 0 ("all is fine").
      const dry = await cli("restore", "--unit", a, "--latest", "--dry-run");
      expect({ exit: dry.exitCode, refused: dry.stderr.includes("restore refused") }).toEqual({
        exit: 2,
        refused: true,
      });
      expect(dry.stdout).toContain(`REFUSED: ${refusal}`);
      const dryJson = await cli("restore", "--unit", a, "--latest", "--dry-run", "--json");
      expect(dryJson.exitCode).toBe(2);
      expect((JSON.parse(dryJson.stdout) as { refusals: string[] }).refusals.join("\n")).toContain(refusal);
      expect(JSON.parse(dryJson.stderr)).toMatchObject({ type: "exit_error", code: "usage", exitCode: 2 });
      const r = await cli("restore", "--unit", a, "--latest", "--yes");
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain("restore refused, nothing was changed");
      expect(r.stderr).toContain(
        `volume ${av} on this host belongs to unit ${b} (mounted by ${b}), not ${a}: restoring in place would replace its data`,
      );
      expect(await inside(b, "cat /data/f")).toBe("b-data\n");
      expect(await stateOf(b)).toBe(before); // never stopped
      expect((await run(["docker", "ps", "-aq", "--filter", `name=^${a}$`])).stdout.trim()).toBe("");
      expect(existsSync(join(dir.path, "kd", "stacks", a))).toBe(false); // no recipe files written
    }, 240_000);

    test("a running container whose bind volume's device is in the restored bind: stopped, started again, sees the restored bytes", async () => {
      await run([
        ...["docker", "volume", "create", "--driver", "local"],
        ...["-o", "type=none", "-o", "o=bind", "-o", `device=${join(bind, "sub")}`, wv],
      ]);
      await startContainer(w, wv);
      await inside(w, "echo written-since > /data/f");
      const before = await stateOf(w);
      expect(before).toEndWith(" true");
      const r = await cli("restore", "--unit", u, "--latest", "--only", "binds", "--yes");
      expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
      const after = await stateOf(w);
      expect(after).toEndWith(" true");
      expect(after).not.toBe(before);
      // The bind directory was replaced: only a container started after that sees the new tree.
      expect(await inside(w, "cat /data/f")).toBe("backed-up\n");
      expect(await inside(u, "cat /data/top /data/sub/f")).toBe("u-top\nbacked-up\n");
      expect(readdirSync(bind).sort()).toEqual(["sub", "top"]);
      expect(r.stderr).toContain(`stopping ${w}`);
    }, 240_000);
  },
);

// A compose unit: app's volume keeps its data in a bind device inside the project directory; worker,
// never started, binds a host path outside it. A copy (`--as`) must keep off both.
describeCompose(
  "restore --as of a compose unit: refused where it would use the original's",
  ["docker", "kopia", "image"],
  (cmp) => {
    const cenv = { ...env, ...cmp.env };
    const dir = tempDir("kd-copyref-");
    const project = uniqueName("kdcr").replace(/-/g, "");
    const stack = join(dir.path, project);
    const device = join(stack, "pgdata");
    const shared = join(dir.path, "shared");
    const kd = join(dir.path, "kd");
    const config = writeTestConfig(kd, `[backup]\nstop_timeout = 2\n${cmp.toml}`);
    const cli = (...a: string[]) => runCli([...a, "--config", config], { env: cenv });
    const app = cmp.container(project, "app");
    const ours = async (kind: "ps" | "volume" | "network", name: string) =>
      (
        await run(
          kind === "ps"
            ? ["docker", "ps", "-aq", "--filter", `name=${name}`]
            : ["docker", kind, "ls", "-q", "--filter", `name=${name}`],
        )
      ).stdout
        .split("\n")
        .filter(Boolean);

    beforeAll(async () => {
      mkdirSync(device, { recursive: true });
      mkdirSync(shared);
      writeFileSync(join(shared, "f"), "original-shared\n");
      const sh = `command: ["sh", "-c", "${QUICK_STOP}"]`;
      writeFileSync(
        join(stack, "docker-compose.yml"),
        `version: "3.5"\nservices:\n  app:\n    image: ${TEST_IMAGE}\n    ${sh}\n    volumes: [data:/data]\n` +
          `  worker:\n    image: ${TEST_IMAGE}\n    ${sh}\n    volumes: ["${shared}:/shared"]\n` +
          `volumes:\n  data:\n    driver: local\n    driver_opts: {type: none, o: bind, device: "${device}"}\n`,
      );
      await runCompose(cmp, ["-p", project, "up", "-d", "app"], { cwd: stack });
      await inside(app, "echo backed-up > /data/f");
      const r = await cli("backup", "--unit", project);
      expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
      await inside(app, "echo changed-since > /data/f");
    }, 240_000);

    afterAll(async () => {
      await removeDockerObjects(await ours("ps", project), await ours("volume", project));
      const networks = await ours("network", project);
      if (networks.length) await run(["docker", "network", "rm", ...networks], { check: false });
      dir.remove();
    }, 120_000);

    test("--target-dir at the original's home: the copy's bind volume would be the original's device; refused, nothing changed", async () => {
      const copy = `${project}cp`;
      const before = await stateOf(app);
      const files = readdirSync(stack).sort();
      const r = await cli(
        ...["restore", "--unit", project, "--latest", "--yes"],
        ...["--as", copy, "--target-dir", stack, "--only", "volumes"],
      );
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain("restore refused, nothing was changed");
      expect(r.stderr).toContain(
        `volume ${copy}_data would keep its data in ${device}, onto the original's ${device}: give the copy its own --target-dir`,
      );
      expect(await inside(app, "ls /data && cat /data/f")).toBe("f\nchanged-since\n");
      expect(await stateOf(app)).toBe(before);
      expect(await ours("volume", copy)).toEqual([]);
      expect(readdirSync(stack).sort()).toEqual(files);
    }, 240_000);

    test("--start of a copy whose never-started service binds a host path: refused, nothing of the copy made", async () => {
      const copy = `${project}st`;
      const r = await cli("restore", "--unit", project, "--latest", "--yes", "--as", copy, "--start");
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain("restore refused, nothing was changed");
      expect(r.stderr).toContain(
        `service worker mounts host path ${shared} and had no container at the backup, so the copy cannot be given its own`,
      );
      expect(await ours("ps", copy)).toEqual([]);
      expect(await ours("volume", copy)).toEqual([]);
      expect(await ours("network", copy)).toEqual([]);
      expect(existsSync(join(kd, "stacks", copy))).toBe(false);
      expect(readdirSync(shared)).toEqual(["f"]);
      expect(readFileSync(join(shared, "f"), "utf8")).toBe("original-shared\n");
      expect(await inside(app, "cat /data/f")).toBe("changed-since\n");
    }, 240_000);
  },
);
