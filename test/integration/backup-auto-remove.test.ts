import { afterAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { inspectState } from "./backup-helpers.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

describeReal("backup: a container started with docker run --rm", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-bk-rm-");
  const rm = uniqueName("kdrm");
  const plain = uniqueName("kdrmplain");
  const volumes = [`${rm}-v`, `${plain}-v`];

  afterAll(async () => {
    for (const n of [rm, plain]) await run(["docker", "rm", "-f", n], { check: false });
    for (const v of volumes) await run(["docker", "volume", "rm", "-f", v], { check: false });
    dir.remove();
  }, 60_000);

  test("is never stopped: its unit fails with the reason (dry run, exit 3, record), the other unit is backed up", async () => {
    // An anonymous volume too: the data a `docker stop` of a --rm container would destroy.
    await startContainer(rm, `${rm}-v`, ["--rm", "-v", "/anon"]);
    await startContainer(plain, `${plain}-v`);
    const anonymous = (await run(["docker", "inspect", "-f", "{{json .Mounts}}", rm])).stdout;
    const anonName = (JSON.parse(anonymous) as { Name?: string; Destination: string }[]).find(
      (m) => m.Destination === "/anon",
    )?.Name;
    expect(anonName).toBeTruthy();
    // `docker rm -f` leaves an anonymous volume behind: removed by name too.
    if (anonName) volumes.push(anonName);
    const before = await inspectState(rm);
    const kd = join(dir.path, "kd");
    const cfg = writeTestConfig(kd, "[backup]\nstop_timeout = 2\n");
    const units = ["--unit", rm, "--unit", plain];

    const dry = await runCli(["backup", "--config", cfg, ...units, "--dry-run"], { env });
    expect({ exit: dry.exitCode, stderr: dry.stderr }).toMatchObject({ exit: 0 });
    expect(dry.stdout).toContain(`REFUSED (the run fails it): ${rm} was started with --rm`);

    const r = await runCli(["backup", "--config", cfg, ...units, "--json"], { env });
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 3 });
    expect(r.stderr).toContain(`${rm}: failed (stop ${rm}: ${rm} was started with --rm`);
    const record = JSON.parse(r.stdout);
    expect(record.status).toBe("partial");
    const byName = (n: string) => record.units.find((u: { name: string }) => u.name === n);
    expect(byName(rm)).toMatchObject({ status: "failed", stopped: [], sources: [] });
    expect(byName(rm).errors[0]).toMatchObject({ phase: "stop", item: rm });
    expect(byName(rm).errors[0].message).toContain("stopping it would make docker delete it");
    expect(byName(plain).status).toBe("ok");
    expect(byName(plain).stopped).toEqual([plain]);
    expect(byName(plain).sources.some((s: { type: string }) => s.type === "volume")).toBe(true);
    // The same record on disk, for `history`.
    const runs = join(kd, "state", "runs");
    const files = readdirSync(runs).filter((f) => f.endsWith(".json"));
    expect(files).toHaveLength(1);
    const stored = JSON.parse(readFileSync(join(runs, files[0] ?? ""), "utf8"));
    expect(stored.units.find((u: { name: string }) => u.name === rm).errors[0].message).toContain("--rm");

    // Still the same running container (never stopped), its anonymous volume still there.
    expect(await inspectState(rm)).toEqual(before);
    const vol = await run(["docker", "volume", "inspect", anonName ?? ""], { check: false });
    expect(vol.exitCode).toBe(0);
  }, 180_000);
});
