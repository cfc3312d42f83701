import type { CommandDef } from "citty";
import backup from "./backup.ts";
import checkFreshness from "./check-freshness.ts";
import config from "./config.ts";
import dockerConfig from "./docker-config.ts";
import doctor from "./doctor.ts";
import dr from "./dr.ts";
import history from "./history.ts";
import kopia from "./kopia.ts";
import list from "./list.ts";
import notify from "./notify.ts";
import recover from "./recover.ts";
import repo from "./repo.ts";
import restore from "./restore.ts";
import setup from "./setup.ts";
import snapshots from "./snapshots.ts";
import systemd from "./systemd.ts";
import upgrade from "./upgrade.ts";
import version from "./version.ts";

/** Every top-level command. A static map: the compiled binary bundles them all anyway. */
// biome-ignore lint/suspicious/noExplicitAny: each command has its own args type; citty stores them untyped
export const commands: Record<string, CommandDef<any>> = {
  backup,
  history,
  kopia,
  version,
  doctor,
  dr,
  "docker-config": dockerConfig,
  config,
  list,
  notify,
  "check-freshness": checkFreshness,
  recover,
  repo,
  restore,
  setup,
  snapshots,
  systemd,
  upgrade,
};
