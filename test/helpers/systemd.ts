import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY } from "./cli.ts";
import { run } from "./env.ts";

// systemd as PID 1 in a container built by scripts/systemd-image.sh. For the kopi-docka tests the
// containers it backs up live on the host daemon (socket mounted), and every path (temp dir, binaries)
// is mounted at the same path, so both sides agree on them.
export const SYSTEMD_IMAGE = "kopi-docka-test/systemd-bookworm:1";
export const SERVICE = "kopi-docka-backup.service";
const ROOT = join(import.meta.dir, "..", "..");
/**
 * systemd needs a writable cgroup tree. cgroup v1 (docker 20.10 here): the host's, mounted in; v2: a
 * private namespace, so the container's systemd never manages the host's root cgroup.
 */
const CGROUP_ARGS = existsSync("/sys/fs/cgroup/cgroup.controllers")
  ? ["--cgroupns", "private"]
  : ["--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw"];
/** Waits (polling) are upper bounds for slow machines, never assertions on how long things take. */
export const WAIT_MS = 90_000;

export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  ms = WAIT_MS,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await Bun.sleep(250);
  }
}

export async function buildSystemdImage(): Promise<void> {
  await run(["bash", join(ROOT, "scripts", "systemd-image.sh"), SYSTEMD_IMAGE], { timeoutMs: 1_200_000 });
}

/** Starts `name` booting systemd, with `extra` docker run options, and waits until systemd is up. */
export async function bootSystemd(name: string, extra: string[], ms = 120_000): Promise<void> {
  // No --privileged: this docker refuses CAP_SYS_RESOURCE; systemd needs the rest and the cgroup tree.
  await run([
    ...["docker", "run", "-d", "--name", name, "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE"],
    ...["--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined", ...CGROUP_ARGS],
    ...["--tmpfs", "/run", "--tmpfs", "/run/lock", ...extra, SYSTEMD_IMAGE, "/sbin/init"],
  ]);
  await until(
    `systemd in ${name} is up`,
    async () => {
      const r = await run(["docker", "exec", name, "systemctl", "is-system-running"], { check: false });
      return ["running", "degraded"].includes(r.stdout.trim());
    },
    ms,
  );
}

/**
 * Boots `init` as a host for kopi-docka's units: the host daemon's socket, docker, kopia and the built
 * binary mounted, `dir` at the same path, and a stand-in docker.service (the image has none; the units
 * Require= one). With `kopiaShim`, the shim is the `kopia` on PATH and the real one is /opt/kopia-real.
 */
export async function bootKopiDockaHost(init: string, dir: string, kopiaShim?: string): Promise<void> {
  await buildSystemdImage();
  if (!existsSync(BINARY)) await run(["bun", "run", "build"], { cwd: ROOT, timeoutMs: 300_000 });
  const kopia = Bun.which("kopia");
  const docker = Bun.which("docker");
  if (!kopia || !docker) throw new Error("kopia and docker must be on PATH");
  const dockerUnit = join(dir, "docker.service");
  writeFileSync(dockerUnit, "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n");
  const kopiaMounts = kopiaShim
    ? ["-v", `${kopia}:/opt/kopia-real:ro`, "-v", `${kopiaShim}:/usr/local/bin/kopia:ro`]
    : ["-v", `${kopia}:/usr/local/bin/kopia:ro`];
  await bootSystemd(init, [
    ...["-v", "/run/docker.sock:/run/docker.sock", "-v", `${docker}:/usr/bin/docker:ro`, ...kopiaMounts],
    ...["-v", `${dir}:${dir}`, "-v", `${BINARY}:${BINARY}:ro`],
  ]);
  await inside(init, ["cp", dockerUnit, "/etc/systemd/system/docker.service"]);
}

/**
 * The host daemon runs other people's containers too: a drop-in replaces the service's ExecStart with
 * `execStart` (one of ours), everything else stays as installed. `dir` is mounted in `init`.
 */
export async function narrowExecStart(init: string, dir: string, execStart: string): Promise<void> {
  const file = join(dir, "only-test-unit.conf");
  writeFileSync(file, `[Service]\nExecStart=\nExecStart=${execStart}\n`);
  const dropIn = `/etc/systemd/system/${SERVICE}.d`;
  await inside(init, ["mkdir", "-p", dropIn]);
  await inside(init, ["cp", file, `${dropIn}/only-test-unit.conf`]);
  await inside(init, ["systemctl", "daemon-reload"]);
}

/** Runs `argv` in `container`; fails (with its output) unless it exits 0. */
async function inside(container: string, argv: string[]): Promise<void> {
  await run(["docker", "exec", container, ...argv]);
}
