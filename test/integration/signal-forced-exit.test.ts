import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { runningChildren } from "../../src/core/process/children.ts";
import { createBunRunner } from "../../src/core/process/runner.ts";
import { describeReal, run, runTestContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

// A second SIGTERM while the first one's cleanup waits on a slow `docker stop`: the exit is forced
// before the container is started again. Before, that was exit 143 with no word of `recover`, and the
// container stayed Exited; a container left stopped is exit 4 (README), also after a signal.
const SOURCE_CLI = [process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts")];
const runner = createBunRunner();
/** doctor's `containers` line, and its exit status (other lines may fail here: no timer, no repository). */
function containersLine(r: { exitCode: number | null; stdout: string }) {
  const checks = JSON.parse(r.stdout).checks as {
    id: string;
    status: string;
    detail: string;
    hint?: string;
  }[];
  return { exit: r.exitCode, check: checks.find((c) => c.id === "containers") };
}

const IGNORES_TERM = "trap '' TERM; while true; do sleep 0.2; done";

describeReal("a forced exit that leaves a container stopped", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-forced-");
  const name = uniqueName("kdt-forced");
  const env = { NO_COLOR: "1", CI: "true", KOPI_DOCKA_CONFIG: undefined };
  let config = "";

  beforeAll(async () => {
    config = writeTestConfig(dir.path);
    await runTestContainer(name, ["--stop-timeout", "8"], IGNORES_TERM);
  }, 120_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    dir.remove();
  }, 60_000);

  test("exit 4, the forced-exit line says to run recover; doctor fails on it; recover starts it", async () => {
    let fired = false;
    let pid = 0;
    const argv = [...SOURCE_CLI, "backup", "--unit", name, "--verbose", "--config", config];
    const result = runner.run(argv, {
      check: false,
      env,
      timeoutMs: 300_000,
      onStderrLine: (l) => {
        if (fired || !l.includes(`stopping ${name}`)) return;
        fired = true;
        setTimeout(() => {
          process.kill(pid, "SIGTERM");
          setTimeout(() => process.kill(pid, "SIGTERM"), 500);
        }, 300);
      },
    });
    const child = runningChildren().find((c) => c.argv.includes(config) && c.argv.includes("backup"));
    if (!child) throw new Error("backup not tracked");
    pid = child.pid;
    const r = await result;
    expect({ fired, exit: r.exitCode }).toEqual({ fired: true, exit: 4 });
    const forced = r.stderr.split("\n").find((l) => l.includes("forced exit"));
    expect(forced).toContain(`start container ${name}`);
    expect(forced).toContain("run `kopi-docka recover`");
    // Wait out the stop the forced exit left running (8 s), then recover starts what it left stopped.
    await run(["docker", "wait", name], { timeoutMs: 30_000 });
    // doctor, read-only, says the container is down (it said healthy before); the journal untouched.
    const journal = join(dir.path, "state", "journal");
    const entries = readdirSync(journal);
    const down = containersLine(
      await runner.run([...SOURCE_CLI, "doctor", "--json", "--config", config], { check: false, env }),
    );
    expect({ exit: down.exit, status: down.check?.status }).toEqual({ exit: 1, status: "fail" });
    expect(down.check?.detail).toContain(name);
    expect(down.check?.hint).toContain("kopi-docka recover");
    expect(readdirSync(journal)).toEqual(entries);
    const recover = await runner.run([...SOURCE_CLI, "recover", "--config", config], { check: false, env });
    expect({ exit: recover.exitCode, err: recover.exitCode ? recover.stderr : "" }).toEqual({
      exit: 0,
      err: "",
    });
    expect((await run(["docker", "inspect", "-f", "{{.State.Running}}", name])).stdout.trim()).toBe("true");
    const up = containersLine(
      await runner.run([...SOURCE_CLI, "doctor", "--json", "--config", config], { check: false, env }),
    );
    expect(up.check?.status).toBe("ok");
  }, 300_000);
});
