import { hostInternalReason } from "../discovery/bind-filter.ts";
import { isRecord } from "../guards.ts";
import { cleanPathProblem } from "../safe-paths.ts";
import type { LoadedRecipe } from "./recipe.ts";
import type { BindStep, CurrentState, FileStep, RestoreRequest } from "./types.ts";

/**
 * Why a plan must not write where it would: a bind target that is a host-internal path the person
 * did not confirm with `--allow-path` (also listed in `confirm`, for the wizard to ask), or a path
 * with a symlink at or above it that the backup did not record. Symlinks are never followed into the unknown: kopia would restore (and with
 * `--delete-extra`, delete) wherever they point.
 */
export function pathRefusals(
  binds: readonly BindStep[],
  files: readonly FileStep[],
  recipe: LoadedRecipe | undefined,
  state: CurrentState,
  request: RestoreRequest,
): { refusals: string[]; confirm: string[] } {
  const refusals: string[] = [];
  const confirm = new Set<string>();
  const allowed = new Set(request.allowPaths ?? []);
  const internal = (path: string) => {
    if (!state.hostInternal || allowed.has(path)) return undefined;
    const why = hostInternalReason(path, state.hostInternal);
    if (why) confirm.add(path);
    return why;
  };
  for (const b of binds) {
    for (const path of new Set([b.path, b.realPath ?? b.path])) {
      const bad = cleanPathProblem(path);
      if (bad) refusals.push(`bind mount ${b.from}: ${bad}`);
      const why = internal(path);
      if (why) {
        refusals.push(
          `bind mount ${path} is a ${why}; a backup never holds one, so the point may be forged. ` +
            `Confirm that exact path with --allow-path ${path} if it is meant`,
        );
      }
    }
    const link = state.symlinks?.[b.path];
    if (link && !b.realPath) {
      refusals.push(
        `bind mount ${b.path}: ${link.link} is a symlink (to ${link.to}) that the backup did not record; ` +
          "nothing is restored through it. Remove the link, or restore a copy with --as",
      );
    }
  }
  for (const f of files) {
    const link = state.symlinks?.[f.to];
    if (link)
      refusals.push(
        `${f.to}: ${link.link} is a symlink (to ${link.to}); remove it first, or name the directory yourself with --target-dir`,
      );
    // The working dir comes from the recipe: compose files never land in a host-internal directory unconfirmed.
    const why = internal(f.to);
    if (why)
      refusals.push(
        `${f.to} is in a ${why}; confirm that exact path with --allow-path ${f.to} if it is meant`,
      );
  }
  if (request.start && recipe) refusals.push(...startMountRefusals(recipe, internal));
  return { refusals, confirm: [...confirm] };
}

/** Bind mounts a rebuilt `docker run` would give a container, read from the (untrusted) inspect. */
function startMountRefusals(recipe: LoadedRecipe, internal: (p: string) => string | undefined): string[] {
  const out: string[] = [];
  for (const [name, inspect] of Object.entries(recipe.inspects)) {
    const mounts = Array.isArray(inspect.Mounts) ? inspect.Mounts.filter(isRecord) : [];
    for (const m of mounts.filter((x) => x.Type === "bind")) {
      const source = String(m.Source ?? "");
      const why = cleanPathProblem(source) ?? internal(source);
      if (why)
        out.push(`container ${name} would mount ${source}: ${why}; --allow-path ${source} confirms it`);
    }
  }
  return out;
}

/**
 * A recorded symlink (`realSource` in the recipe) that still resolves where it did at backup time is
 * followed by writing to the resolved path itself; any other link stays a refusal.
 */
export function recordedRealPath(
  path: string,
  source: string,
  recipe: LoadedRecipe | undefined,
  state: CurrentState,
  copy: boolean,
): string | undefined {
  const link = state.symlinks?.[path];
  if (!link || copy) return undefined;
  const recorded = recipe?.unit.bindMounts.find((m) => m.source === source)?.realSource;
  return recorded && recorded === link.resolved ? recorded : undefined;
}
