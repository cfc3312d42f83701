import { isAtOrUnder } from "../discovery/bind-filter.ts";
import { PROJECT_FILE } from "../snapshot/layout.ts";

/**
 * Places a restore point may not write to unconfirmed, besides `backup.host_internal_paths`: the
 * point's tags and recipe name them, and anyone with the repository password can write those. A
 * file there changes how the host runs, not what an app stores: a hidden directory or file (ssh keys,
 * shell rc files, per-user systemd units and environment, tool settings) and the spools cron and at
 * run from. Kept here rather than in `host_internal_paths`' defaults: that list is what a backup
 * leaves out (widening it would silently stop backing up binds there), and `config init` writes it
 * out in full, so configs already written would never see a new default.
 */
export function privatePlace(path: string): string | undefined {
  if (path.split("/").some((c) => c.startsWith(".")))
    return "a hidden directory or file (a user's ssh keys, shell or tool settings)";
  if (isAtOrUnder(path, "/var/spool")) return "the spool directory cron and at run jobs from";
  return undefined;
}

/**
 * Why a compose or project file of a recipe may not get `name` (its name in the target dir). A backup
 * copies project files only by `PROJECT_FILE`: any other name comes from an altered recipe. In the
 * directory a recipe names itself (`inPlace`), a compose file must also end in `.yml`/`.yaml` and only
 * `.env*` may be hidden: with those names no file there is read by anything but compose.
 */
export function recipeNameProblem(stored: string, name: string, inPlace: boolean): string | undefined {
  if (stored.startsWith("project/") && !PROJECT_FILE.test(name))
    return "a backup copies only .env*, *.env, *.conf, *.config, *.toml and *.ini files beside compose files";
  if (!inPlace) return undefined;
  if (!stored.startsWith("project/") && !/\.ya?ml$/.test(name))
    return "a compose file restored in place must end in .yml or .yaml";
  if (name.startsWith(".") && !name.startsWith(".env"))
    return "a hidden file restored in place must be an .env file";
  return undefined;
}

/**
 * The bind path a restore writes that `source` lies inside, when `source` is not one itself: what
 * the mount leads to is then decided by the point's own data (a symlink in it), which no plan sees.
 */
export function insideRestored(source: string, restored: readonly string[]): string | undefined {
  const same = (a: string, b: string) => isAtOrUnder(a, b) && isAtOrUnder(b, a);
  if (restored.some((r) => same(source, r))) return undefined;
  return restored.find((r) => r !== "/" && isAtOrUnder(source, r));
}
