import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY } from "../helpers/cli.ts";
import { describeReal, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

// The real thing behind issue #6's promise: a backup service SIGKILL'd in its cold window heals by
// itself, because the unit's ExecStopPost runs `recover`. systemd runs as PID 1 in a container built
// by scripts/systemd-image.sh; the container it backs up lives on the host daemon (socket mounted),
// and every path (temp dir, binaries) is mounted at the same path, so both sides agree on them.
const SYSTEMD_IMAGE = "kopi-docka-test/systemd-bookworm:1";
const ROOT = join(import.meta.dir, "..", "..");
const SERVICE = "kopi-docka-backup.service";
/**
 * systemd needs a writable cgroup tree. cgroup v1 (docker 20.10 here): the host's, mounted in; v2: a
 * private namespace, so the container's systemd never manages the host's root cgroup.
 */
const CGROUP_ARGS = existsSync("/sys/fs/cgroup/cgroup.controllers")
  ? ["--cgroupns", "private"]
  : ["--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw"];
/** Waits (polling) are upper bounds for slow machines, never assertions on how long things take. */
const WAIT_MS = 90_000;

const entries = (journal: string) => readdirSync(journal).filter((n) => n.endsWith(".json"));

async function until(what: string, check: () => Promise<boolean> | boolean, ms = WAIT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await Bun.sleep(250);
  }
}

describeReal("systemd: ExecStopPost=recover heals a SIGKILL'd backup", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-sysd-recover-");
  const app = uniqueName("kdt-sysd-app");
  const init = uniqueName("kdt-sysd-init");
  const data = join(dir.path, "data");
  /** Created by the kopia shim when the cold snapshot of `data` starts (the container is stopped). */
  const coldMarker = join(dir.path, "cold-snapshot-started");
  let config = "";
  const onlyOurUnit = join(dir.path, "only-test-unit.conf");

  const inInit = (argv: string[]) => run(["docker", "exec", init, ...argv], { check: false });
  const appRunning = async () =>
    (await run(["docker", "inspect", "--format", "{{.State.Running}}", app])).stdout.trim() === "true";

  beforeAll(async () => {
    await run(["bash", join(ROOT, "scripts", "systemd-image.sh"), SYSTEMD_IMAGE], { timeoutMs: 1_200_000 });
    if (!existsSync(BINARY)) await run(["bun", "run", "build"], { cwd: ROOT, timeoutMs: 300_000 });
    config = writeTestConfig(dir.path);
    mkdirSync(data);
    writeFileSync(join(data, "payload.txt"), "kept across the kill\n");
    // Sleeps only in the cold data snapshot, so the kill lands while the container is stopped; then
    // execs the real kopia (the run is SIGKILL'd long before the sleep ends). A gated snapshot is
    // started before the stop: the shim waits at the gate first, as kopia would.
    const shim = join(dir.path, "kopia-shim");
    writeFileSync(
      shim,
      `#!/bin/sh\nfor a in "$@"; do\n  if [ "$a" = "${data}" ]; then\n    if [ -n "$KOPI_DOCKA_GATE" ]; then read -r go < "$KOPI_DOCKA_GATE"; fi\n    touch "${coldMarker}"; sleep 600\n  fi\ndone\nexec /opt/kopia-real "$@"\n`,
    );
    chmodSync(shim, 0o755);
    // The container image has no docker.service; the unit Requires= one (the host daemon is outside).
    const dockerUnit = join(dir.path, "docker.service");
    writeFileSync(dockerUnit, "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n");
    writeFileSync(
      onlyOurUnit,
      `[Service]\nExecStart=\nExecStart=${BINARY} backup --unit ${app} --config ${config}\n`,
    );

    await run([
      "docker",
      "run",
      "-d",
      "--name",
      app,
      "-v",
      `${data}:/data`,
      TEST_IMAGE,
      "sh",
      "-c",
      "trap 'exit 0' TERM; while true; do sleep 0.2; done",
    ]);
    const kopia = Bun.which("kopia");
    const docker = Bun.which("docker");
    if (!kopia || !docker) throw new Error("kopia and docker must be on PATH");
    // No --privileged: this docker refuses CAP_SYS_RESOURCE; systemd needs the rest and the cgroup tree.
    await run([
      "docker",
      "run",
      "-d",
      "--name",
      init,
      "--cap-add",
      "ALL",
      "--cap-drop",
      "SYS_RESOURCE",
      "--security-opt",
      "seccomp=unconfined",
      "--security-opt",
      "apparmor=unconfined",
      ...CGROUP_ARGS,
      "--tmpfs",
      "/run",
      "--tmpfs",
      "/run/lock",
      "-v",
      "/run/docker.sock:/run/docker.sock",
      "-v",
      `${docker}:/usr/bin/docker:ro`,
      "-v",
      `${kopia}:/opt/kopia-real:ro`,
      "-v",
      `${shim}:/usr/local/bin/kopia:ro`,
      "-v",
      `${dir.path}:${dir.path}`,
      "-v",
      `${BINARY}:${BINARY}:ro`,
      SYSTEMD_IMAGE,
      "/sbin/init",
    ]);
    await until("systemd in the container is up", async () => {
      const state = (await inInit(["systemctl", "is-system-running"])).stdout.trim();
      return state === "running" || state === "degraded";
    });
    expect((await inInit(["cp", dockerUnit, "/etc/systemd/system/docker.service"])).exitCode).toBe(0);
  }, 1_500_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", init, app], { check: false });
    dir.remove();
  }, 60_000);

  test("install, start, SIGKILL mid cold window: recover restarts the container, journal empty", async () => {
    const install = await inInit([BINARY, "systemd", "install", "--no-enable", "--config", config]);
    expect({ code: install.exitCode, stderr: install.stderr }).toEqual({ code: 0, stderr: "" });
    expect(install.stdout).toContain("ran       systemctl daemon-reload");
    const unit = (await inInit(["systemctl", "cat", SERVICE])).stdout;
    expect(unit).toContain(`ExecStopPost=${BINARY} recover --config ${config}\n`);
    // The host daemon runs other people's containers too: the run must touch ours alone. A drop-in
    // narrows ExecStart to our unit; ExecStopPost, the thing under test, stays as installed.
    const dropIn = `/etc/systemd/system/${SERVICE}.d`;
    expect((await inInit(["mkdir", "-p", dropIn])).exitCode).toBe(0);
    expect((await inInit(["cp", onlyOurUnit, `${dropIn}/only-test-unit.conf`])).exitCode).toBe(0);
    expect((await inInit(["systemctl", "daemon-reload"])).exitCode).toBe(0);
    expect((await inInit(["systemctl", "cat", SERVICE])).stdout).toContain(`backup --unit ${app}`);

    expect((await inInit(["systemctl", "start", "--no-block", SERVICE])).exitCode).toBe(0);
    await until("the cold snapshot runs with the container stopped", async () => {
      return existsSync(coldMarker) && !(await appRunning());
    });
    const journal = join(dir.path, "state", "journal");
    const recorded = entries(journal);
    if (recorded.length !== 1)
      console.error((await inInit(["journalctl", "-u", SERVICE, "-o", "cat"])).stdout);
    expect(recorded).toHaveLength(1);

    const kill = await inInit(["systemctl", "kill", "-s", "SIGKILL", SERVICE]);
    expect(kill.exitCode).toBe(0);
    // Nothing but ExecStopPost=recover starts it again (no restart policy, no other run).
    await until("the stopped container runs again", appRunning, 30_000);
    // recover starts the container, then waits for it to run before it clears the journal and exits.
    await until("the service (with its ExecStopPost) has finished", async () => {
      const state = (await inInit(["systemctl", "show", "-p", "ActiveState", "--value", SERVICE])).stdout;
      return state.trim() === "failed";
    });

    const shown = await inInit(["systemctl", "show", "-p", "Result", "-p", "ExecStopPost", SERVICE]);
    expect(shown.stdout).toContain("Result=signal");
    expect(shown.stdout).toMatch(
      /ExecStopPost=\{ path=\S+ ; argv\[\]=\S+ recover --config .* code=exited ; status=0 \}/,
    );
    expect(entries(journal)).toEqual([]);
    const log = (await inInit(["journalctl", "-u", SERVICE, "-o", "cat"])).stdout;
    const touched = [...log.matchAll(/unit (\S+): \d+ source/g)].map((m) => m[1]);
    expect(touched).toEqual([app]);
    const payload = await run(["docker", "exec", app, "cat", "/data/payload.txt"]);
    expect(payload.stdout).toBe("kept across the kill\n");
  }, 300_000);
});
