import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import {
  describeReal,
  run,
  TEST_IMAGE,
  tempDir,
  uniqueName,
  volumeMountpoint,
  writeTestConfig,
} from "../helpers/env.ts";
import { sampleCommandLines } from "../helpers/processes.ts";
import { describeTree } from "../helpers/tree.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };
const LOOP = "trap 'exit 0' TERM; while true; do sleep 0.2; done";

// A standalone container on a custom network, with a volume, a single-file bind mount and secrets in
// its env (one by name, one inside a URL): the file comes back as a file; `--start` rebuilds `docker
// run` only with the real secrets from --env-file, and no secret reaches a log, an error, a file
// kopi-docka writes, the recipe or `ps`; a same-named network with another subnet is replaced only
// with --recreate-networks.
describeReal(
  "restore: a standalone container (file bind, secrets, networks)",
  ["docker", "kopia", "image"],
  () => {
    const dir = tempDir("kd-restore-sa-");
    const name = uniqueName("kdt-restore-sa");
    const volume = `${name}-v`;
    const network = `${name}-net`;
    const octet = 100 + Math.floor(Math.random() * 150);
    const subnet = `10.${octet}.77.0/24`;
    const conf = join(dir.path, "etc", "app.conf");
    const pgSecret = `s3cret-${crypto.randomUUID()}`;
    const databaseUrl = `postgres://u:${pgSecret}@h/db`;
    const config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");
    const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
    const inspect = async (format: string, what = name) =>
      (await run(["docker", "inspect", "-f", format, what], { check: false })).stdout.trim();
    const mountpoint = () => volumeMountpoint(volume);
    let atBackup: { volume: ReturnType<typeof describeTree>; conf: ReturnType<typeof describeTree> };

    beforeAll(async () => {
      mkdirSync(join(dir.path, "etc"), { recursive: true });
      writeFileSync(conf, "listen = 8080\n");
      chmodSync(conf, 0o640);
      utimesSync(conf, new Date("2021-02-03T04:05:06Z"), new Date("2021-02-03T04:05:06Z"));
      await run(["docker", "network", "create", "--subnet", subnet, network]);
      await run([
        ...["docker", "run", "-d", "--name", name, "--network", network, "--restart", "unless-stopped"],
        ...["-v", `${volume}:/data`, "-v", `${conf}:/etc/app.conf:ro`, "-e", "MODE=test"],
        ...[
          "-e",
          `DATABASE_URL=${databaseUrl}`,
          "-e",
          "DB_PASSWORD=s3cret-value",
          TEST_IMAGE,
          "sh",
          "-c",
          LOOP,
        ],
      ]);
      await run(["docker", "exec", name, "sh", "-c", "echo data > /data/d && mkdir /data/sub"]);
      atBackup = { volume: describeTree(await mountpoint()), conf: describeTree(conf) };
      const r = await cli("backup", "--unit", name);
      expect(r.stderr).not.toMatch(/\berror\b/); // not the policy flag --ignore-file-errors=false
      expect(r.exitCode).toBe(0);
    }, 180_000);

    afterAll(async () => {
      await run(["docker", "rm", "-f", name], { check: false });
      await run(["docker", "volume", "rm", "-f", volume], { check: false });
      await run(["docker", "network", "rm", network], { check: false });
      dir.remove();
    }, 60_000);

    test("a single-file bind mount is backed up and restored as that file (content, mode, mtime)", async () => {
      writeFileSync(conf, "listen = 9999 # changed\n");
      const plan = await cli("restore", "--unit", name, "--latest", "--only", "binds", "--dry-run");
      expect(plan.stdout).toContain(`overwrite  bind mount ${conf} (a single file`);
      const r = await cli("restore", "--unit", name, "--latest", "--only", "binds", "--yes", "--json");
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      expect(describeTree(conf)).toEqual(atBackup.conf);
      expect(JSON.parse(r.stdout).undoPoint).toMatch(/@restore-/);
      expect(await inspect("{{.State.Running}}")).toBe("true");
      expect((await run(["docker", "exec", name, "cat", "/etc/app.conf"])).stdout).toBe("listen = 8080\n");
    }, 120_000);

    test("--start of a container whose secrets were redacted: refused without --env-file, rebuilt with it", async () => {
      await run(["docker", "rm", "-f", name]);
      const refused = await cli("restore", "--unit", name, "--latest", "--yes", "--start");
      expect(refused.exitCode).toBe(2);
      // docker keeps no order among the env entries it was given
      expect(refused.stderr).toMatch(/(DB_PASSWORD, DATABASE_URL|DATABASE_URL, DB_PASSWORD) were redacted/);
      expect(refused.stderr).toContain("--env-file");
      expect(refused.stderr).not.toContain(pgSecret);
      expect(await inspect("{{.Id}}")).toBe("");

      const envFile = join(dir.path, "app.env");
      writeFileSync(envFile, `# the real values\nDB_PASSWORD=s3cret-value\nDATABASE_URL=${databaseUrl}\n`, {
        mode: 0o600,
      });
      // The plan as JSON names the variables, never their values (MODE=test: one no redactor knows).
      const dry = await cli(
        "restore",
        "--unit",
        name,
        "--latest",
        "--start",
        "--dry-run",
        "--json",
        "--env-file",
        envFile,
      );
      expect({ exit: dry.exitCode, stderr: dry.stderr }).toMatchObject({ exit: 0 });
      expect(JSON.parse(dry.stdout).start.containers[0].env).toContain("MODE");
      for (const secret of ["MODE=test", "s3cret-value", pgSecret]) expect(dry.stdout).not.toContain(secret);

      const tmp = join(dir.path, "tmp");
      mkdirSync(tmp);
      const restoring = runCli(
        [
          ...["restore", "--unit", name, "--latest", "--yes", "--start", "--verbose"],
          ...["--env-file", envFile, "--config", config],
        ],
        { env: { ...env, TMPDIR: tmp }, timeoutMs: 300_000 },
      );
      const [r, commandLines] = await Promise.all([restoring, sampleCommandLines(restoring)]);
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      expect(r.stderr).toContain("$ docker run -d --env-file "); // --verbose logged the commands
      // MODE=test stands for a secret no redactor recognises: env values go through files, never argv
      expect(r.stderr).not.toContain("MODE=test");
      for (const text of [r.stdout, r.stderr]) {
        expect(text).not.toContain(pgSecret);
        expect(text).not.toContain("s3cret-value");
      }
      // ps saw the restore's own docker run, and no secret or env value in any argv
      expect(commandLines.some((l) => l.startsWith(`docker run -d --env-file ${tmp}/`))).toBe(true);
      for (const l of commandLines) expect(l).not.toContain(pgSecret);
      for (const l of commandLines.filter((x) => x.includes(name))) expect(l).not.toContain("MODE=test");
      // the private env files are gone, and nothing kopi-docka wrote (state, cache, the staged recipe) holds it
      expect(readdirSync(tmp)).toEqual([]);
      const written = ["state", "cache"]
        .flatMap((d) => readdirSync(join(dir.path, d), { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile());
      expect(written.some((e) => e.parentPath.endsWith("inspect"))).toBe(true);
      for (const e of written)
        expect(readFileSync(join(e.parentPath, e.name), "latin1")).not.toContain(pgSecret);

      expect(await inspect("{{.State.Running}}")).toBe("true");
      const envs = JSON.parse(await inspect("{{json .Config.Env}}")) as string[];
      expect(envs).toContain("DB_PASSWORD=s3cret-value");
      expect(envs).toContain(`DATABASE_URL=${databaseUrl}`);
      expect(envs).toContain("MODE=test");
      expect(envs.join(" ")).not.toContain("REDACTED");
      expect(await inspect("{{.HostConfig.RestartPolicy.Name}}")).toBe("unless-stopped");
      expect(await inspect("{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}")).toBe(network);
      expect(describeTree(await mountpoint())).toEqual(atBackup.volume);
      expect((await run(["docker", "exec", name, "cat", "/etc/app.conf"])).stdout).toBe("listen = 8080\n");
    }, 300_000);

    test("a same-named network with another subnet: refused (exit 2) unless --recreate-networks", async () => {
      await run(["docker", "rm", "-f", name]);
      await run(["docker", "network", "rm", network]);
      const other = `10.${octet}.78.0/24`;
      await run(["docker", "network", "create", "--subnet", other, network]);
      const subnetNow = () => inspect("{{range .IPAM.Config}}{{.Subnet}}{{end}}", network);

      const dry = await cli("restore", "--unit", name, "--latest", "--dry-run");
      expect(dry.stdout).toContain(`REFUSED: network ${network} exists with driver bridge, subnet ${other}`);
      const refused = await cli("restore", "--unit", name, "--latest", "--yes");
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain("--recreate-networks replaces it");
      expect(await subnetNow()).toBe(other);

      const r = await cli("restore", "--unit", name, "--latest", "--yes", "--recreate-networks");
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      expect(await subnetNow()).toBe(subnet);
    }, 180_000);

    test("--recreate-networks while the unit's container is on that network: it is reattached and runs again", async () => {
      const other = `10.${octet}.79.0/24`;
      await run(["docker", "rm", "-f", name], { check: false });
      await run(["docker", "network", "rm", network]);
      await run(["docker", "network", "create", "--subnet", other, network]);
      await run([
        ...["docker", "run", "-d", "--name", name, "--network", network, "-v", `${volume}:/data`],
        ...[TEST_IMAGE, "sh", "-c", LOOP],
      ]);
      await run(["docker", "exec", name, "sh", "-c", "echo later > /data/d"]);
      // The restore stops it (its volume is restored) before it replaces the network: stopped, docker
      // no longer lists it on the network, yet it keeps an endpoint on the old network's ID.
      const r = await cli("restore", "--unit", name, "--latest", "--yes", "--recreate-networks");
      expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
      expect(await inspect("{{range .IPAM.Config}}{{.Subnet}}{{end}}", network)).toBe(subnet);
      expect(await inspect("{{.State.Running}}")).toBe("true");
      const netId = await inspect("{{.Id}}", network);
      expect(
        await inspect("{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.NetworkID}}{{end}}"),
      ).toBe(`${network}=${netId}`);
      expect((await run(["docker", "exec", name, "cat", "/data/d"])).stdout).toBe("data\n");
    }, 180_000);

    test("--start of the unit's container that exists, stopped (it crashed): started once its data is back, no --env-file needed", async () => {
      await run(["docker", "exec", name, "sh", "-c", "echo broken > /data/d"]);
      await run(["docker", "stop", "-t", "1", name]);
      const dry = await cli("restore", "--unit", name, "--latest", "--start", "--dry-run");
      expect({ exit: dry.exitCode, stderr: dry.stderr }).toMatchObject({ exit: 0 });
      expect(dry.stdout).toContain(`start      ${name} (exists, stopped): docker start`);
      // Not recreated, so the env values redacted in the backup are not needed.
      const r = await cli("restore", "--unit", name, "--latest", "--start", "--yes");
      expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
      expect(await inspect("{{.State.Running}}")).toBe("true");
      expect((await run(["docker", "exec", name, "cat", "/data/d"])).stdout).toBe("data\n");
    }, 180_000);

    test("--recreate-networks when the backup's subnet is taken on this host: the old network is put back with its containers, the unit runs again", async () => {
      const other = `10.${octet}.80.0/24`;
      const blocker = `${name}-blocker`;
      const bystander = `${name}-by`;
      // The unit's container runs on the network, as the test before left it.
      await run(["docker", "network", "disconnect", "-f", network, name]);
      await run(["docker", "network", "rm", network]);
      await run(["docker", "network", "create", "--subnet", other, network]);
      // Another network holds the backup's subnet now: the recreated one cannot have it.
      await run(["docker", "network", "create", "--subnet", subnet, blocker]);
      try {
        await run(["docker", "network", "connect", network, name]);
        await run([
          ...["docker", "run", "-d", "--name", bystander, "--network", network],
          TEST_IMAGE,
          "sh",
          "-c",
          LOOP,
        ]);
        const r = await cli("restore", "--unit", name, "--latest", "--yes", "--recreate-networks");
        expect(r.exitCode).not.toBe(0);
        expect(r.stderr).toContain(`network ${network} could not be recreated as the backup has it`);
        expect(r.stderr).toContain("the old one was put back");
        expect(await inspect("{{range .IPAM.Config}}{{.Subnet}}{{end}}", network)).toBe(other);
        const netId = await inspect("{{.Id}}", network);
        for (const c of [name, bystander]) {
          expect(await inspect("{{.State.Running}}", c)).toBe("true");
          expect(await inspect(`{{(index .NetworkSettings.Networks "${network}").NetworkID}}`, c)).toBe(
            netId,
          );
        }
      } finally {
        await run(["docker", "rm", "-f", bystander], { check: false });
        await run(["docker", "network", "disconnect", "-f", network, name], { check: false });
        await run(["docker", "network", "rm", blocker], { check: false });
      }
    }, 180_000);

    test("a point whose volume snapshot is gone: --dry-run names what the backup protected but the point lacks", async () => {
      const listed = JSON.parse((await cli("snapshots", "--json")).stdout) as {
        points: { volumes: { name: string; id: string }[] }[];
      };
      const id = listed.points[0]?.volumes.find((v) => v.name === volume)?.id as string;
      await run(
        [
          ...["kopia", "--config-file", join(dir.path, "state", "kopia", "repository.config")],
          ...["snapshot", "delete", id, "--delete"],
        ],
        { env: { KOPIA_PASSWORD: readFileSync(join(dir.path, "repository.password"), "utf8").trim() } },
      );
      // --latest never picks a point that lacks data: it names the incomplete one and how to take it anyway.
      const key = (JSON.parse((await cli("snapshots", "--json")).stdout).points[0] as { key: string }).key;
      const latest = await cli("restore", "--unit", name, "--latest", "--dry-run");
      expect(latest.exitCode).toBe(2);
      expect(latest.stderr).toContain(`the newest, ${key}, is incomplete`);
      expect(latest.stderr).toContain(`--run ${key}`);
      // The network the test above left with another subnet refuses the plan: --dry-run shows it
      // whole, then exits 2 as the restore would.
      const dry = await cli("restore", "--unit", name, "--run", key, "--dry-run");
      expect(dry.exitCode).toBe(2);
      expect(dry.stdout).toContain(`REFUSED: network ${network} exists`);
      expect(dry.stdout).toContain(
        `  missing    volume ${volume}: the backup protected it, this point has no snapshot of it`,
      );
      const json = JSON.parse(
        (await cli("restore", "--unit", name, "--run", key, "--dry-run", "--json")).stdout,
      );
      expect(json.missing).toEqual([`volume ${volume}`]);
    }, 120_000);
  },
);
