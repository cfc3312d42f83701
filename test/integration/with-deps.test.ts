import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { describeReal, run, tempDir, uniqueName } from "../helpers/env.ts";
import { hostVariant } from "../helpers/release.ts";
import { bootSystemd, buildSystemdImage, SYSTEMD_IMAGE } from "../helpers/systemd.ts";

// Issue #15's report, for real: a Debian 12 machine booted with systemd whose image ships only the
// docker CLI (the host's, mounted at /usr/local/bin/docker) and no engine. `sh install.sh --with-deps`
// with the one full binary must leave `docker info` answering (docker.io installed from Debian, the
// service enabled and started), the nightly timer enabled, and `kopi-docka backup` working. The
// engine runs inside the container (its own /var/lib/docker on a tmpfs); the host daemon is not used.
const ROOT = join(import.meta.dir, "..", "..");

/** The install media: the one full binary and install.sh, in `<dir>/media`. */
async function buildMedia(dir: string): Promise<string> {
  const media = join(dir, "media");
  const target = `bun-linux-${hostVariant()}`;
  await run([process.execPath, "run", join(ROOT, "build.ts"), "--full", "--out", media, target], {
    cwd: ROOT,
    timeoutMs: 600_000,
  });
  copyFileSync(join(ROOT, "install.sh"), join(media, "install.sh"));
  return media;
}

describeReal("install.sh --with-deps on a systemd machine with only the docker CLI", ["docker"], () => {
  const dir = tempDir("kdt-with-deps-");
  const name = uniqueName("kdt-with-deps");
  const full = `kopi-docka-linux-${hostVariant()}-full`;
  const inside = (script: string) =>
    run(["docker", "exec", name, "sh", "-c", script], { check: false, timeoutMs: 600_000 });

  beforeAll(async () => {
    await buildSystemdImage();
    const media = await buildMedia(dir.path);
    const docker = Bun.which("docker");
    if (!docker) throw new Error("docker must be on PATH");
    // dockerd inside needs what systemd does, and its own /var/lib/docker.
    await bootSystemd(name, [
      ...["--tmpfs", "/var/lib/docker", "-v", `${media}:/media/kd:ro`],
      ...["-v", `${docker}:/usr/local/bin/docker:ro`],
    ]);
  }, 1_500_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false, timeoutMs: 120_000 });
    dir.remove();
  }, 150_000);

  test("before: the CLI is there, the engine is not", async () => {
    expect((await inside("command -v docker")).stdout.trim()).toBe("/usr/local/bin/docker");
    expect((await inside("docker info")).exitCode).not.toBe(0);
    expect((await inside("dpkg-query -W docker.io")).exitCode).not.toBe(0);
  });

  test("sh install.sh --with-deps && kopi-docka backup works, and the engine and the timer are enabled", async () => {
    const r = await inside(
      `sh /media/kd/install.sh --with-deps --binary /media/kd/${full} && kopi-docka backup`,
    );
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(r.stderr).toContain("is running (enabled at boot)");
    expect((await inside("docker info")).exitCode).toBe(0);
    expect(
      (await inside("systemctl is-enabled docker kopi-docka-backup.timer kopi-docka-freshness.timer")).stdout
        .trim()
        .split("\n"),
    ).toEqual(["enabled", "enabled", "enabled"]);
    const doctor = await inside("kopi-docka doctor --json");
    expect(doctor.exitCode).toBe(0);
    const checks = JSON.parse(doctor.stdout).checks as { id: string; status: string; detail: string }[];
    expect(checks.find((c) => c.id === "kopia")?.detail).toContain(
      "embedded: /var/lib/kopi-docka/bin/kopia-",
    );
    // The timer install.sh enabled, read from the real systemd: enabled, active, no failed run.
    expect(checks.filter((c) => c.id === "schedule").map((c) => c.status)).toEqual(["ok"]);
    expect(checks.find((c) => c.id === "schedule")?.detail).toContain(
      "kopi-docka-backup.timer enabled, next run ",
    );
  });

  test("the freshness check's service runs under systemd, hardened, and succeeds while every unit is in time", async () => {
    const start = await inside("systemctl start kopi-docka-freshness.service");
    expect({ exit: start.exitCode, stderr: start.stderr }).toMatchObject({ exit: 0 });
    const show = await inside("systemctl show -p Result -p ExecMainStatus kopi-docka-freshness.service");
    expect(show.stdout.trim().split("\n").sort()).toEqual(["ExecMainStatus=0", "Result=success"]);
    const status = await inside("kopi-docka systemd status");
    expect(status.stdout).toContain(": every unit in time");
    expect(status.stdout).not.toContain("missing");
  });
});

// Where systemd is not PID 1 (a plain container, a chroot): docker.io is installed, and the installer
// says exactly how to start dockerd; doing what it says gives an engine that answers.
describeReal("install.sh --with-deps where systemd is not PID 1 and docker.io is absent", ["docker"], () => {
  const dir = tempDir("kdt-with-deps-nosd-");
  const name = uniqueName("kdt-with-deps-nosd");
  const full = `kopi-docka-linux-${hostVariant()}-full`;
  const inside = (script: string) =>
    run(["docker", "exec", name, "sh", "-c", script], { check: false, timeoutMs: 600_000 });

  beforeAll(async () => {
    await buildSystemdImage();
    const media = await buildMedia(dir.path);
    await run([
      ...["docker", "run", "-d", "--name", name, "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE"],
      ...["--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined"],
      ...["--tmpfs", "/var/lib/docker", "-v", `${media}:/media/kd:ro`],
      SYSTEMD_IMAGE,
      ...["sleep", "infinity"],
    ]);
  }, 1_500_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false, timeoutMs: 120_000 });
    dir.remove();
  }, 150_000);

  test("installs docker.io, prints how to start dockerd, and that command works", async () => {
    expect((await inside("command -v docker")).exitCode).not.toBe(0);
    const r = await inside(`sh /media/kd/install.sh --with-deps --no-timer --binary /media/kd/${full}`);
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own field syntax
    expect((await inside("dpkg-query -W -f='${Status}' docker.io")).stdout).toBe("install ok installed");
    const lines = r.stderr.split("\n");
    const at = lines.findIndex((l) => l.includes("systemd is not PID 1 here"));
    expect(at).toBeGreaterThanOrEqual(0);
    const command = (lines[at + 1] ?? "").replace(/^install: +/, "");
    expect(command).toBe("nohup dockerd >/var/log/dockerd.log 2>&1 &");
    await inside(command);
    const end = Date.now() + 90_000;
    while ((await inside("docker info")).exitCode !== 0) {
      if (Date.now() > end) throw new Error((await inside("tail -20 /var/log/dockerd.log")).stdout);
      await Bun.sleep(500);
    }
    expect((await inside("kopi-docka backup")).exitCode).toBe(0);
  });
});
