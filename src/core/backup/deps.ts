import type { Config } from "../../config/schema.ts";
import type { Journal } from "../containers/journal.ts";
import type { Docker } from "../docker/docker.ts";
import type { FsFacts } from "../fs-snapshot/driver.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import type { Lifecycle } from "../safe-exit.ts";
import type { ProgressReporter } from "./progress.ts";

/** What the backup executor acts through; tests pass fakes for every part. */
export interface BackupDeps {
  config: Config;
  runner: Runner;
  docker: Docker;
  kopia: Kopia;
  log: Logger;
  lifecycle: Lifecycle;
  journal: Journal;
  hostname: string;
  version: string;
  /** The clock; tests fix it. */
  now?: () => Date;
  /** Poll sleep while waiting for restarted containers; tests make it instant. */
  sleep?: (ms: number) => Promise<void>;
  /** Docker daemon config paths copied for scope "full". */
  dockerConfigPaths?: readonly string[];
  /** Live progress of each snapshot; without it kopia runs with `--no-progress`. */
  progress?: ProgressReporter;
  /** The filesystem facts `fs-snapshot` reads (default: this host's); tests describe a tree. */
  fs?: FsFacts;
}
