import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { adoptionWarnings, describeCompose, runCompose } from "../helpers/compose.ts";
import { run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

/**
 * A compose stack with a relative bind (`./uploads`) and a named volume, restored with `--start`:
 * each case checks from inside the restored container that both hold exactly what was backed up.
 */
describeCompose(
  "restore --start: a compose unit comes back on its restored data",
  ["docker", "kopia", "image"],
  (cmp) => {
    const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
    const dir = tempDir("kd-home-");
    const project = uniqueName("kdh").replace(/-/g, "");
    const copy = `${project}copy`;
    const stack = join(dir.path, "app");
    // An absolute bind outside the project directory: only the override can move it for a copy.
    const shared = join(dir.path, "shared");
    const composeFile = join(stack, "docker-compose.yml");
    const config = writeTestConfig(dir.path, `[backup]\nstop_timeout = 2\n${cmp.toml}`);
    const app = (p: string) => cmp.container(p, "app");
    const foreign = uniqueName("kdh-foreign");
    let seen: { uploads: string; shared: string; data: string; mode: string };
    let subnet = "";

    /** Every file under `path` in container `c` with its sha256, and every directory, sorted. */
    const view = async (c: string, path: string) =>
      (
        await run([
          "docker",
          "exec",
          c,
          "sh",
          "-c",
          `cd ${path} && find . | sort | while read -r f; do if [ -f "$f" ]; then sha256sum "$f"; else echo "dir $f"; fi; done`,
        ])
      ).stdout;
    const views = async (c: string) => ({
      uploads: await view(c, "/srv/uploads"),
      shared: await view(c, "/srv/shared"),
      data: await view(c, "/data"),
      // MODE comes from the project's .env: compose read it from the project directory it was given
      mode: (await run(["docker", "exec", c, "sh", "-c", 'echo "$MODE"'])).stdout,
    });
    const running = async (c: string) =>
      (await run(["docker", "inspect", "-f", "{{.State.Running}}", c], { check: false })).stdout.trim();

    /** Containers, volumes and networks of the project (and the copy) gone, by name: no compose file needed. */
    const teardown = async () => {
      for (const p of [project, copy]) {
        await run(["docker", "rm", "-f", app(p)], { check: false });
        await run(["docker", "volume", "rm", `${p}_data`], { check: false });
        await run(["docker", "network", "rm", `${p}_back`], { check: false });
      }
    };
    const restore = (cfg: string, ...extra: string[]) =>
      runCli(["restore", "--config", cfg, "--unit", project, "--latest", "--yes", "--start", ...extra], {
        env,
      });

    /** The stack as it was set up for the backup, started by docker-compose itself. */
    const upOriginal = async () => {
      mkdirSync(join(stack, "uploads", "deep"), { recursive: true });
      writeFileSync(
        composeFile,
        `version: "3"\nservices:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n` +
          `    volumes:\n      - data:/data\n      - ./uploads:/srv/uploads\n      - ${shared}:/srv/shared:ro\n` +
          // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable, from the .env file
          '    environment: { MODE: "${MODE}" }\n    networks: [back]\n' +
          "volumes:\n  data:\nnetworks:\n  back:\n",
      );
      writeFileSync(join(stack, ".env"), "MODE=test\n");
      writeFileSync(join(stack, "uploads", "photo.jpg"), crypto.getRandomValues(new Uint8Array(50_000)));
      writeFileSync(join(stack, "uploads", "deep", "note.txt"), "uploaded\n");
      mkdirSync(shared, { recursive: true });
      writeFileSync(join(shared, "settings.ini"), "[a]\nb=1\n");
      await runCompose(cmp, ["-p", project, "-f", composeFile, "up", "-d"], { cwd: stack });
    };

    beforeAll(async () => {
      await upOriginal();
      await run([
        "docker",
        "exec",
        app(project),
        "sh",
        "-c",
        "echo hello > /data/a.txt && head -c 100000 /dev/urandom > /data/blob",
      ]);
      seen = await views(app(project));
      expect(seen.uploads).toContain("./photo.jpg");
      expect(seen.data).toContain("./blob");
      expect(seen.mode).toBe("test\n");
      expect(seen.shared).toContain("./settings.ini");
      const net = await run([
        "docker",
        "network",
        "inspect",
        "-f",
        "{{json .IPAM.Config}}",
        `${project}_back`,
      ]);
      subnet = (JSON.parse(net.stdout) as { Subnet: string }[])[0]?.Subnet ?? "";
      const r = await runCli(["backup", "--config", config, "--unit", project], { env });
      expect(r.exitCode).toBe(0);
    }, 240_000);

    afterAll(async () => {
      await teardown();
      await run(["docker", "network", "rm", foreign], { check: false });
      dir.remove();
    }, 120_000);

    test("same host, project directory left in place: the app sees its uploads and volume", async () => {
      await teardown();
      rmSync(join(stack, "uploads"), { recursive: true, force: true });
      const r = await restore(config);
      expect(r.exitCode).toBe(0);
      // compose's own output is in the log (so a warning of its would be too), and it holds none
      expect(r.stderr).toContain(
        `starting: ${cmp.command.join(" ")} -p ${project} --project-directory ${stack}`,
      );
      expect(r.stderr).toContain(app(project));
      expect(adoptionWarnings(r.stderr)).toEqual([]); // compose took the restored volume and network as its own
      expect(await running(app(project))).toBe("true");
      expect(await views(app(project))).toEqual(seen);
    }, 240_000);

    test("the project directory holds an edited compose file: refused naming it, --replace-files keeps it as .bak", async () => {
      const edited = `${readFileSync(composeFile, "utf8")}# edited after the backup\n`;
      writeFileSync(composeFile, edited);
      const refused = await restore(config);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain(`${stack} holds other versions of docker-compose.yml than the backup`);
      expect(refused.stderr).toContain("--replace-files");
      expect(readFileSync(composeFile, "utf8")).toBe(edited);
      const r = await restore(config, "--replace-files");
      expect(r.exitCode).toBe(0);
      expect(adoptionWarnings(r.stderr)).toEqual([]); // compose took the restored volume and network as its own
      expect(readFileSync(composeFile, "utf8")).not.toContain("# edited");
      const bak = readdirSync(stack).filter((f) => f.startsWith("docker-compose.yml.bak-"));
      expect(bak.length).toBe(1);
      expect(readFileSync(join(stack, bak[0] as string), "utf8")).toBe(edited);
      rmSync(join(stack, bak[0] as string));
      expect(await views(app(project))).toEqual(seen);
    }, 240_000);

    test("--target-dir elsewhere: the compose files there, ./uploads still mounted from the restored data", async () => {
      await teardown();
      rmSync(join(stack, "uploads"), { recursive: true, force: true });
      const elsewhere = join(dir.path, "elsewhere");
      const dry = await restore(config, "--target-dir", elsewhere, "--dry-run", "--json");
      const plan = JSON.parse(dry.stdout) as { override: { binds: { source: string; target: string }[] } };
      expect(plan.override.binds).toContainEqual(
        expect.objectContaining({ source: join(stack, "uploads"), target: "/srv/uploads" }),
      );
      const r = await restore(config, "--target-dir", elsewhere);
      expect(r.exitCode).toBe(0);
      expect(adoptionWarnings(r.stderr)).toEqual([]); // compose took the restored volume and network as its own
      expect(existsSync(join(elsewhere, "docker-compose.yml"))).toBe(true);
      expect(await views(app(project))).toEqual(seen);
    }, 240_000);

    test("same host, project directory deleted: compose files come back to it and the app sees its data", async () => {
      await teardown();
      rmSync(stack, { recursive: true, force: true });
      const r = await restore(config);
      expect(r.exitCode).toBe(0);
      expect(adoptionWarnings(r.stderr)).toEqual([]); // compose took the restored volume and network as its own
      expect(readFileSync(composeFile, "utf8")).toContain("./uploads:/srv/uploads");
      expect(readFileSync(join(stack, ".env"), "utf8")).toBe("MODE=test\n");
      expect(await views(app(project))).toEqual(seen);
    }, 240_000);

    test("fresh host (no state, directory, volumes, networks, containers; the old auto subnet taken)", async () => {
      await teardown();
      rmSync(stack, { recursive: true, force: true });
      rmSync(shared, { recursive: true, force: true });
      // The new host's docker handed the subnet the network had by chance to something else.
      expect(subnet).not.toBe("");
      await run(["docker", "network", "create", "--subnet", subnet, foreign]);
      const fresh = writeTestConfig(join(dir.path, "fresh"), cmp.toml);
      await Bun.write(
        fresh,
        (await Bun.file(fresh).text())
          .replace(/^path = .*$/m, `path = "${dir.path}/repository"`)
          .replace(/^password_file = .*$/m, `password_file = "${dir.path}/repository.password"`),
      );
      try {
        const r = await restore(fresh);
        expect(r.stderr).not.toContain("REFUSED");
        expect(r.exitCode).toBe(0);
        expect(adoptionWarnings(r.stderr)).toEqual([]); // compose took the restored volume and network as its own
        expect(existsSync(composeFile)).toBe(true);
        expect(await views(app(project))).toEqual(seen);
      } finally {
        await run(["docker", "network", "rm", foreign], { check: false });
      }
    }, 240_000);

    test("--as side by side while the original runs: the copy sees the backup, the original is untouched", async () => {
      if ((await running(app(project))) !== "true") {
        await teardown();
        await upOriginal();
      }
      writeFileSync(join(stack, "uploads", "after-backup.txt"), "new in the original\n");
      const original = await views(app(project));
      const r = await restore(config, "--as", copy);
      expect(r.exitCode).toBe(0);
      expect(adoptionWarnings(r.stderr)).toEqual([]); // compose took the restored volume and network as its own
      expect(await running(app(copy))).toBe("true");
      expect(await views(app(copy))).toEqual(seen);
      expect(await running(app(project))).toBe("true");
      expect(await views(app(project))).toEqual(original);
      const mounts = await run(["docker", "inspect", "-f", "{{json .Mounts}}", app(copy)]);
      const bind = (JSON.parse(mounts.stdout) as { Type: string; Source: string }[]).find(
        (m) => m.Type === "bind",
      );
      expect(bind?.Source.startsWith(join(dir.path, "stacks", copy))).toBe(true);
    }, 240_000);
  },
);
