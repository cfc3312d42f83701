import type { Config } from "../../config/schema.ts";
import type { NotRunning } from "../containers/settle.ts";
import type { Docker } from "../docker/docker.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import type { Lifecycle } from "../safe-exit.ts";
import type { ContentProgress } from "./context.ts";

/** What a restore acts through, and what it reports: apart from `execute.ts`, which its steps import. */
export interface RestoreDeps {
  config: Config;
  runner: Runner;
  docker: Docker;
  kopia: Kopia;
  log: Logger;
  lifecycle: Lifecycle;
  hostname: string;
  version: string;
  /** The restart journal's directory: the restore's stops are recorded there (`stop-journal.ts`). */
  paths: { journalDir: string };
  progress?: ContentProgress;
}

export interface RestoreResult {
  runId: string;
  /** Run id of the undo point (`restore --run <unit>@<id>` brings the old state back); unset if none. */
  undoPoint?: string;
  volumes: string[];
  binds: string[];
  files: string[];
  backups: string[];
  started: string[];
  /** Containers whose database was fed a dump. */
  dumps?: string[];
  warnings: string[];
  /** Volumes and binds kopia restored with fewer files than their snapshot holds (exit 3). */
  incomplete?: string[];
  /**
   * With `incomplete`, nothing starts on that data (`partial-hold.ts`): the containers left stopped
   * and held, in the order they start, and the commands that go on from there.
   */
  held?: string[];
  heldNext?: string[];
  /**
   * Still stopped, exit 4: restored, then its `docker start` failed (the journal keeps it, not held),
   * or the heal before the restore could not start it (`session.ts`).
   */
  restartFailed?: string[];
  /**
   * Started by this restore but not running (exited, restarting) or running but not healthy
   * (`unhealthy`, `starting`) once `backup.start_timeout` is over (`readiness.ts`), exit 4: its data is
   * restored, nothing is rolled back. One not running is named in `restartFailed` too; one that runs is not.
   */
  notRunning?: NotRunning[];
  /** Paused before the restore stopped them, paused again once they ran. */
  pausedAgain?: string[];
}
