import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { adoptionWarnings, describeCompose, runCompose } from "../helpers/compose.ts";
import { QUICK_STOP, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

/**
 * A compose unit whose compose file names its volume and network itself (`name:`) and uses an
 * external volume and network, restored side by side (`--as COPY --start`) while the original runs:
 * the copy must get its own of each, never the original's. Checked from inside both containers (the
 * copy sees the backup's bytes, the original its newer ones, and a write in one never reaches the
 * other) and with docker inspect (which volumes and networks each container is on).
 */
describeCompose(
  "restore --as of a compose unit whose volumes and networks have fixed names",
  ["docker", "kopia", "image"],
  (cmp) => {
    const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
    const dir = tempDir("kd-copynamed-");
    const project = uniqueName("kdcn").replace(/-/g, "");
    const copy = `${project}copy`;
    const stack = join(dir.path, "app");
    const config = writeTestConfig(dir.path, `[backup]\nstop_timeout = 2\n${cmp.toml}`);
    const app = (p: string) => cmp.container(p, "app");
    const original = {
      data: `${project}_fixed`,
      ext: `${project}_ext`,
      net: `${project}_fixednet`,
      extnet: `${project}_extnet`,
    };
    const backedUp = { data: "", ext: "" };
    const after = { data: "", ext: "" };

    const sh = async (c: string, script: string) =>
      (await run(["docker", "exec", c, "sh", "-c", script])).stdout;
    /** sha256 of /data/blob and /ext/blob as the container sees them. */
    const sums = async (c: string) => ({
      data: (await sh(c, "sha256sum /data/blob")).split(" ")[0] ?? "",
      ext: (await sh(c, "sha256sum /ext/blob")).split(" ")[0] ?? "",
    });
    const inspect = async (c: string) => {
      const r = await run([
        "docker",
        "inspect",
        "-f",
        "{{json .Mounts}}|{{json .NetworkSettings.Networks}}",
        c,
      ]);
      const [mounts, networks] = r.stdout.trim().split("|");
      return {
        volumes: (JSON.parse(mounts ?? "[]") as { Name?: string }[]).map((m) => m.Name).sort(),
        networks: Object.keys(JSON.parse(networks ?? "{}")).sort(),
      };
    };
    /** Every container, volume and network whose name holds the project's unique name. */
    const teardown = async () => {
      const ids = async (ls: string[]) =>
        (await run([...ls, "-q", "--filter", `name=${project}`])).stdout.split("\n").filter(Boolean);
      const containers = await ids(["docker", "ps", "-a"]);
      if (containers.length) await run(["docker", "rm", "-f", ...containers], { check: false });
      const volumes = await ids(["docker", "volume", "ls"]);
      if (volumes.length) await run(["docker", "volume", "rm", "-f", ...volumes], { check: false });
      const networks = await ids(["docker", "network", "ls"]);
      if (networks.length) await run(["docker", "network", "rm", ...networks], { check: false });
    };
    const restore = (as: string, ...extra: string[]) =>
      runCli(["restore", "--config", config, "--unit", project, "--latest", "--yes", "--as", as, ...extra], {
        env,
      });

    beforeAll(async () => {
      mkdirSync(stack, { recursive: true });
      await run(["docker", "volume", "create", original.ext]);
      await run(["docker", "network", "create", original.extnet]);
      writeFileSync(
        join(stack, "docker-compose.yml"),
        `version: "3.5"\nservices:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["sh", "-c", "${QUICK_STOP}"]\n` +
          "    volumes: [data:/data, ext:/ext]\n    networks: [back, outside]\n" +
          `volumes:\n  data:\n    name: ${original.data}\n  ext:\n    external: true\n    name: ${original.ext}\n` +
          `networks:\n  back:\n    name: ${original.net}\n  outside:\n    external: true\n    name: ${original.extnet}\n`,
      );
      await runCompose(cmp, ["-p", project, "up", "-d"], { cwd: stack });
      await sh(
        app(project),
        "head -c 200000 /dev/urandom > /data/blob && head -c 200000 /dev/urandom > /ext/blob",
      );
      Object.assign(backedUp, await sums(app(project)));
      const r = await runCli(["backup", "--config", config, "--unit", project], { env });
      expect(r.exitCode).toBe(0);
      // The original goes on: what it writes after the backup is its own, never the copy's.
      await sh(
        app(project),
        "head -c 100000 /dev/urandom > /data/blob && head -c 100000 /dev/urandom > /ext/blob",
      );
      Object.assign(after, await sums(app(project)));
      expect(after.data).not.toBe(backedUp.data);
    }, 240_000);

    afterAll(async () => {
      await teardown();
      dir.remove();
    }, 120_000);

    test("the copy runs on its own volumes and networks, with the backup's data; the original keeps its own", async () => {
      const r = await restore(copy, "--start");
      expect(r.exitCode).toBe(0);
      expect(await sums(app(copy))).toEqual(backedUp);
      expect(await sums(app(project))).toEqual(after);
      const mine = await inspect(app(copy));
      const theirs = await inspect(app(project));
      expect(theirs).toEqual({
        volumes: [original.data, original.ext].sort(),
        networks: [original.net, original.extnet].sort(),
      });
      expect(mine.volumes).toHaveLength(2);
      expect(mine.networks).toHaveLength(2);
      for (const name of [...mine.volumes, ...mine.networks]) expect(name?.startsWith(`${copy}_`)).toBe(true);
      // compose took the copy's restored volumes and networks as its own, and asked nothing
      expect(adoptionWarnings(r.stderr)).toEqual([]);
      expect(r.stderr).not.toMatch(/already exists|Recreate/);

      // A write in the copy stays in the copy.
      await sh(app(copy), "echo copy > /data/blob && echo copy > /ext/blob");
      expect(await sums(app(project))).toEqual(after);

      // The plan names each object the copy has its own of.
      const dry = await restore(copy, "--start", "--dry-run", "--json");
      expect(dry.exitCode).toBe(0);
      const plan = JSON.parse(dry.stdout) as {
        override: { renamed: { from: string; to: string }[] };
        refusals: string[];
      };
      expect(plan.refusals).toEqual([]);
      expect(plan.override.renamed.map((x) => x.from).sort()).toEqual(Object.values(original).sort());
      for (const x of plan.override.renamed) expect(x.to.startsWith(`${copy}_`)).toBe(true);
    }, 240_000);

    test("an external volume the restore does not bring back: --start refused, nothing made", async () => {
      const other = `${project}other`;
      const r = await restore(other, "--only", "recipe", "--start");
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(
        `volume ext is external (${original.ext}): the copy uses its own ${other}_${original.ext}`,
      );
      expect(r.stderr).toContain(`docker volume create ${other}_${original.ext}`);
      const made = await run(["docker", "ps", "-a", "-q", "--filter", `name=${other}`]);
      expect(made.stdout.trim()).toBe("");
    }, 120_000);
  },
);
