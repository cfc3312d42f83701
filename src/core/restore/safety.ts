import { basename } from "node:path";
import { hostInternalReason } from "../discovery/bind-filter.ts";
import { isRecord } from "../guards.ts";
import { cleanPathProblem } from "../safe-paths.ts";
import { type ComposeHostUse, hostPathOf, mountKey } from "./compose-host.ts";
import type { ComposeOverride } from "./compose-override.ts";
import { insideRestored, privatePlace, recipeNameProblem } from "./places.ts";
import type { LoadedRecipe } from "./recipe.ts";
import type { BindStep, CurrentState, FileStep, RestoreRequest, StartStep } from "./types.ts";

/** What else decides where a restore writes and what `--start` mounts. */
export interface PlaceFacts {
  /** The recipe's own directory (`workingDir`), when the unit's files go there or compose starts there. */
  home?: string;
  start?: StartStep;
  override?: ComposeOverride;
}

/**
 * Why a plan must not write where it would: a bind target that is a host-internal path the person
 * did not confirm with `--allow-path` (also listed in `confirm`, for the wizard to ask), or a path
 * with a symlink at or above it that the backup did not record. Symlinks are never followed into the unknown: kopia would restore (and with
 * `--delete-extra`, delete) wherever they point. In place, a path the point names in a private place
 * (places.ts) needs the same confirmation, and a recipe file only gets a name a backup would give it.
 * With `--start`, every host path the unit would mount is judged the same way.
 */
export function pathRefusals(
  binds: readonly BindStep[],
  files: readonly FileStep[],
  recipe: LoadedRecipe | undefined,
  state: CurrentState,
  request: RestoreRequest,
  at: PlaceFacts = {},
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
  const place = (path: string) => {
    const why = allowed.has(path) ? undefined : privatePlace(path);
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
      // In place the path is the point's own word (a copy's lies under its own directory), unless a
      // container on this host binds it already: root made that one (an app's `/root/.n8n`, say).
      const boundHere = state.containers.some((c) => c.binds.includes(path));
      const mine = why || request.as || boundHere ? undefined : place(path);
      if (mine)
        refusals.push(
          `bind mount ${path} is in ${mine}, and the point that names it may be forged; ` +
            `confirm that exact path with --allow-path ${path} if it is meant`,
        );
    }
    const link = state.symlinks?.[b.path];
    if (link && !b.realPath) {
      refusals.push(
        `bind mount ${b.path}: ${link.link} is a symlink (to ${link.to}) that the backup did not record; ` +
          "nothing is restored through it. Remove the link, or restore a copy with --as",
      );
    }
  }
  // The working dir comes from the recipe: nothing lands in a private or host-internal place unconfirmed.
  const home = at.home && (files.length > 0 || at.start?.kind === "compose") ? at.home : undefined;
  const homeWhy = home ? place(home) : undefined;
  if (home && homeWhy)
    refusals.push(
      `the point restores its compose files into ${home}, ${homeWhy}; confirm that exact path with ` +
        `--allow-path ${home} if it is meant, or restore them elsewhere with --target-dir DIR`,
    );
  for (const f of files) {
    const link = state.symlinks?.[f.to];
    if (link)
      refusals.push(
        `${f.to}: ${link.link} is a symlink (to ${link.to}); remove it first, or name the directory yourself with --target-dir`,
      );
    const named = recipeNameProblem(f.stored, basename(f.to), home !== undefined);
    if (named)
      refusals.push(
        `${f.stored} would be written as ${f.to}: ${named}; restore elsewhere with --target-dir DIR`,
      );
    const why = internal(f.to);
    if (why)
      refusals.push(
        `${f.to} is in a ${why}; confirm that exact path with --allow-path ${f.to} if it is meant`,
      );
  }
  // What `--start` mounts: a host-internal path, or one reached through data this restore writes.
  const restored = [...new Set(binds.flatMap((b) => [b.from, b.path, ...(b.realPath ? [b.realPath] : [])]))];
  const judge = (path: string) => {
    const inside = allowed.has(path) ? undefined : insideRestored(path, restored);
    if (inside) confirm.add(path);
    return inside
      ? `inside ${inside}, which this restore writes from the point ` +
          "(a symlink in it would decide what is mounted)"
      : internal(path);
  };
  if (request.start && recipe) refusals.push(...startMountRefusals(recipe, judge));
  if (request.start && at.start?.kind === "compose")
    refusals.push(...composeStartRefusals(state.composeUse, at.start.cwd, at.override, judge));
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
 * What `compose up` of the restored files would mount or read from this host (compose-host.ts), each
 * path judged as a standalone container's. A bind the override pins (same service, same path in the
 * container) is replaced by it, so only the override's counts. Where a source points cannot be told
 * (a variable, `~`), or the files cannot be read whole, the unit is not started: compose would decide.
 */
function composeStartRefusals(
  use: ComposeHostUse | undefined,
  projectDir: string,
  override: ComposeOverride | undefined,
  internal: (p: string) => string | undefined,
): string[] {
  const byHand = "restore without --start and start it yourself once you checked its compose files";
  if (!use) return [`--start: the compose files were not read, so what they mount is unknown; ${byHand}`];
  const out = use.unchecked.map((u) => `--start: ${u}; ${byHand}`);
  const pinned = new Set((override?.binds ?? []).map((b) => mountKey(b.service, b.target)));
  for (const p of use.paths) {
    if (p.service && p.target && pinned.has(mountKey(p.service, p.target))) continue;
    const where = hostPathOf(p.source, projectDir);
    const as = `${p.by} would use ${JSON.stringify(p.source)} (${p.what})`;
    if ("unresolved" in where) {
      out.push(`${as}: ${where.unresolved}, which kopi-docka does not resolve; ${byHand}`);
      continue;
    }
    const bad = cleanPathProblem(where.path);
    if (bad) out.push(`${as}: ${bad}; ${byHand}`);
    const why = bad ? undefined : internal(where.path);
    if (why) out.push(`${as}, that is ${where.path}: ${why}; --allow-path ${where.path} confirms it`);
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
