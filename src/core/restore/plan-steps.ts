import { basename, resolve } from "node:path";
import { isAtOrUnder } from "../discovery/bind-filter.ts";
import { UsageError } from "../errors.ts";
import { pathUnder, UnsafePathError } from "../safe-paths.ts";
import { hasRedaction, redactDeep } from "../snapshot/redact.ts";
import { COPY_OF_LABEL } from "./copy-owner.ts";
import type { Renamer } from "./names.ts";
import { checkAgainstRecipe, type RestorePoint } from "./points.ts";
import { composeTargetName, type LoadedRecipe } from "./recipe.ts";
import { recordedRealPath } from "./safety.ts";
import type { BindStep, CurrentState, FileStep, RestoreRequest, VolumeStep } from "./types.ts";

/** The point's volumes (the chosen ones with `--volume`), named for this host. */
export function planVolumes(
  point: RestorePoint,
  recipe: LoadedRecipe | undefined,
  state: CurrentState,
  chosen: string[] | undefined,
  names: Renamer,
  copy = false,
): VolumeStep[] {
  // A bad flag (exit 2), as `--run` and `--unit` naming nothing are.
  const unknown = (chosen ?? []).filter((v) => !point.volumes.some((s) => s.name === v));
  if (unknown.length > 0)
    throw new UsageError(
      `--volume: restore point ${point.key} has no volume ${unknown.join(", ")}`,
      `volumes in it: ${point.volumes.map((s) => s.name).join(", ") || "none"}`,
    );
  return point.volumes
    .filter((s) => !chosen || chosen.includes(s.name))
    .map((s) => {
      const meta = recipe?.unit.volumes.find((v) => v.name === s.name);
      const name = names.volume(s.name, meta?.labels ?? {});
      return {
        name,
        from: s.name,
        snapshotId: s.id,
        sizeBytes: s.sizeBytes,
        files: s.files,
        action: state.volumes[name] ? "overwrite" : "create",
        driver: meta?.driver ?? "local",
        // A copy's bind volume keeps its data under the copy's dir, never in the original's device.
        options: names.volumeOptions(meta?.options ?? {}),
        // A copy's volumes say whose copy they are: a later copy restores only into its own.
        labels: { ...names.labels(meta?.labels ?? {}), ...(copy ? { [COPY_OF_LABEL]: point.unit } : {}) },
      };
    });
}

/**
 * Volumes to create whose driver options hold a secret (a CIFS `password=`): redacted in the
 * backup, or in plain text in a recipe written before redaction covered options. `docker volume
 * create` takes options only in argv, which `ps` shows to every user, so kopi-docka never creates
 * them: the person creates the volume, and a restore into an existing volume needs no options.
 */
export function secretVolumeRefusals(volumes: readonly VolumeStep[]): string[] {
  return volumes
    .filter(createsWithSecret)
    .map(
      (v) =>
        `volume ${v.name}: its driver options hold a secret, which kopi-docka never puts on a command line; ` +
        `create it yourself with the options ${Object.keys(v.options).join(", ")} (driver ${v.driver}) ` +
        `kept off command lines too: from a compose file's driver_opts (docker-compose up --no-start), or ` +
        `through the docker socket with the request body in a file (curl --unix-socket /var/run/docker.sock ` +
        `-H 'Content-Type: application/json' -d @volume.json http://localhost/volumes/create); then restore again`,
    );
}

/** A volume to create whose driver options hold a secret (redacted, or in plain text). */
export function createsWithSecret(v: VolumeStep): boolean {
  return (
    v.action === "create" &&
    (Object.values(v.options).some(hasRedaction) ||
      JSON.stringify(redactDeep(v.options)) !== JSON.stringify(v.options))
  );
}

/** The point's bind mounts; a single-file bind (the recipe says `kind: file`) stays a file. */
export function planBinds(
  point: RestorePoint,
  recipe: LoadedRecipe | undefined,
  state: CurrentState,
  names: Renamer,
  copy = false,
): BindStep[] {
  return point.binds.map((b) => {
    const path = names.bind(b.source);
    const realPath = recordedRealPath(path, b.source, recipe, state, copy);
    const kind =
      recipe?.unit.bindMounts.find((m) => m.source === b.source)?.kind === "file" ? "file" : "directory";
    return {
      from: b.source,
      path,
      snapshotId: b.id,
      sizeBytes: b.sizeBytes,
      files: b.files,
      action: (state.paths[path] ?? "missing") === "missing" ? "create" : "overwrite",
      kind,
      ...(realPath ? { realPath } : {}),
    };
  });
}

/**
 * Compose and project files into the target dir: created, overwritten (old kept) or left alone.
 *
 * A file at or under a bind this same run restores (`./cfg.ini:/etc/cfg.ini`) is left to the bind:
 * no step, so no `.bak` of what the bind just wrote and no overwrite. When the two differ the bind
 * wins: it is what the containers read and wrote, taken with the rest of the unit's data in its cold
 * window, and kopia brings back its mode and owner; the recipe's copy is only there to bring the
 * stack up when the data is not restored (`--what recipe`, or a point without that bind).
 */
export function planFiles(
  recipe: LoadedRecipe,
  state: CurrentState,
  targetDir: string,
  binds: readonly BindStep[] = [],
): FileStep[] {
  const restored = binds.flatMap((b) => [b.path, ...(b.realPath ? [b.realPath] : [])]);
  return recipe.files.flatMap((f): FileStep[] => {
    const to = pathUnder(targetDir, targetName(f.stored, recipe));
    // A file step never replaces the target dir itself (a forged `compose/01-.`), with the binds in it.
    if (to === resolve(targetDir))
      throw new UnsafePathError(`${f.stored} names the target directory itself`, to);
    if (restored.some((p) => isAtOrUnder(to, p))) return [];
    const old = state.fileHashes[to];
    // A copy's `.env` and compose files name its own project (copy-naming.ts): compared as written.
    const named = state.copyNaming?.files[f.stored];
    const sha256 = named?.sha256 ?? f.sha256;
    return [
      {
        stored: f.stored,
        to,
        action: old === undefined ? "create" : old === sha256 ? "same" : "overwrite",
        ...(f.attributes ? { attributes: f.attributes } : {}),
        ...(named ? { projectName: named.edit } : {}),
      },
    ];
  });
}

export function targetName(stored: string, recipe: LoadedRecipe): string {
  if (stored.startsWith("project/")) return stored.slice("project/".length);
  return composeTargetName(
    stored,
    recipe.unit.composeFiles.map((c) => c.stored),
  );
}

/**
 * What the backup protected (coverage.json in its recipe) but the point has no snapshot of: a source
 * whose snapshot failed or was incomplete. Older recipes without coverage fall back to unit.json.
 */
export function missingFromPoint(point: RestorePoint, recipe: LoadedRecipe | undefined): string[] {
  if (!recipe || point.phase) return [];
  const protectedIds = (kind: string) =>
    recipe.coverage?.filter((i) => i.kind === kind && i.status === "protected").map((i) => i.id);
  const listed = {
    volumes: protectedIds("volume") ?? recipe.unit.volumes.map((v) => v.name),
    binds:
      protectedIds("bind") ??
      recipe.unit.bindMounts.filter((b) => b.kind === "directory" || b.kind === "file").map((b) => b.source),
    networks: (protectedIds("networks")?.length ?? 0) > 0,
  };
  return checkAgainstRecipe({ ...point, problems: [] }, listed).problems.map((p) =>
    p.replace(/ missing$/, ""),
  );
}

/**
 * Compose and project files that differ from the backup's are someone's newer edits: never replaced
 * unless asked (`--replace-files`, or a yes in the wizard), and then kept as `.bak-<time>`.
 */
export function filesRefusal(files: FileStep[], dir: string, request: RestoreRequest): string | undefined {
  const differ = files.filter((f) => f.action === "overwrite").map((f) => basename(f.to));
  if (differ.length === 0 || request.replaceFiles) return undefined;
  return (
    `${dir} holds other versions of ${differ.join(", ")} than the backup: move them away, ` +
    "or replace them with --replace-files (each old one is kept as <file>.bak-<time>), " +
    "or restore next to them with --as NAME or --target-dir DIR"
  );
}
