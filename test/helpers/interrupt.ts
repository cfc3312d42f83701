import { join } from "node:path";
import { runningChildren } from "../../src/core/process/children.ts";
import { createBunRunner, type RunResult } from "../../src/core/process/runner.ts";
import { run, TEST_IMAGE } from "./env.ts";

const SOURCE_CLI = [process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts")];
const runner = createBunRunner();

export interface InterruptedBackup {
  result: Promise<RunResult>;
  /** Whether `act` ran: the run reached the read of the volume before it ended. */
  fired: () => boolean;
}

/**
 * Starts `kopi-docka backup --unit <unit> --verbose --config <config>` from source; `act(pid)` runs
 * `afterMs` (700 by default) after kopia is snapshotting `volume` and kopi-docka has let it read. kopia says
 * "Snapshotting" once its repository is open (its stderr passed through as debug lines); the read
 * starts when kopi-docka says so, after the stop, at the gate's release, in either order. By then
 * the upload of a few hundred MB is under way for seconds even on an idle machine.
 */
export function backupInterruptedAtRead(o: {
  unit: string;
  volume: string;
  config: string;
  env: Record<string, string | undefined>;
  act: (pid: number) => void;
  /**
   * A signal test waits into the read; one that must act inside the frozen window acts at once: the
   * read of the volume (not its upload) may end within 700 ms on a fast disk with the data cached.
   */
  afterMs?: number;
}): InterruptedBackup {
  let pid = 0;
  let fired = false;
  const seen = { volume: false, kopia: false };
  const argv = [...SOURCE_CLI, "backup", "--unit", o.unit, "--verbose", "--config", o.config];
  const result = runner.run(argv, {
    check: false,
    env: o.env,
    timeoutMs: 300_000,
    onStderrLine: (l) => {
      if (l.includes(`snapshot of volume ${o.volume}`)) seen.volume = true;
      if (l.includes("kopia: Snapshotting") && l.includes(`/volumes/${o.volume}`)) seen.kopia = true;
      if (fired || !seen.volume || !seen.kopia) return;
      fired = true;
      setTimeout(() => o.act(pid), o.afterMs ?? 700);
    },
  });
  const child = runningChildren().find((c) => c.argv.includes(o.config) && c.argv.includes("backup"));
  if (!child) throw new Error("backup not tracked");
  pid = child.pid;
  return { result, fired: () => fired };
}

const IDLE = "trap 'exit 0' TERM; while true; do sleep 0.2; done";
const FILL = "for i in $(seq 1 40); do head -c 8000000 /dev/urandom > /data/f$i; done";

/**
 * Container `name` idling on volume `volume` (at /data), which holds ~320 MB of random data: kopia
 * reads it for seconds, long enough to act while it does. `after` runs in the volume after the fill;
 * `runArgs` go to `docker run` before the image (more mounts).
 */
export async function startOnBigVolume(
  name: string,
  volume: string,
  o: { after?: string; runArgs?: string[] } = {},
): Promise<void> {
  await run(["docker", "volume", "create", volume]);
  await fillBigVolume(volume, o.after);
  const mounts = ["-v", `${volume}:/data`, ...(o.runArgs ?? [])];
  await run(["docker", "run", "-d", "--name", name, ...mounts, TEST_IMAGE, "sh", "-c", IDLE]);
}

/** Writes ~320 MB of new random data into `volume` (then `after`, a shell line, in it). */
export async function fillBigVolume(volume: string, after?: string): Promise<void> {
  const fill = after ? `${FILL}; ${after}` : FILL;
  await run(["docker", "run", "--rm", "-v", `${volume}:/data`, TEST_IMAGE, "sh", "-c", fill], {
    timeoutMs: 120_000,
  });
}
