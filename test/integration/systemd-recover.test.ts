import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { bootKopiDockaHost, narrowExecStart, SERVICE, until } from "../helpers/systemd.ts";

// The real thing behind issue #6's promise: a backup service SIGKILL'd in its cold window heals by
// itself, because the unit's ExecStopPost runs `recover`. systemd runs as PID 1 (test/helpers/systemd.ts).
const entries = (journal: string) => readdirSync(journal).filter((n) => n.endsWith(".json"));

describeReal("systemd: ExecStopPost=recover heals a SIGKILL'd backup", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-sysd-recover-");
  const app = uniqueName("kdt-sysd-app");
  const init = uniqueName("kdt-sysd-init");
  const data = join(dir.path, "data");
  /** Created by the kopia shim when the cold snapshot of `data` starts (the container is stopped). */
  const coldMarker = join(dir.path, "cold-snapshot-started");
  let config = "";

  const inInit = (argv: string[]) => run(["docker", "exec", init, ...argv], { check: false });
  const appRunning = async () =>
    (await run(["docker", "inspect", "--format", "{{.State.Running}}", app])).stdout.trim() === "true";

  beforeAll(async () => {
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
    await startContainer(app, data);
    await bootKopiDockaHost(init, dir.path, shim);
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
    await narrowExecStart(init, dir.path, `${BINARY} backup --unit ${app} --config ${config}`);
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
