import { join } from "node:path";
import { AppError } from "../errors.ts";
import type { Renamer } from "./names.ts";
import { checkAgainstRecipe, type RestorePoint } from "./points.ts";
import { composeTargetName, type LoadedRecipe } from "./recipe.ts";
import type { BindStep, CurrentState, FileStep, NetworkStep, RestoreRequest, VolumeStep } from "./types.ts";

/** The point's volumes (the chosen ones with `--volume`), named for this host. */
export function planVolumes(
  point: RestorePoint,
  recipe: LoadedRecipe | undefined,
  state: CurrentState,
  chosen: string[] | undefined,
  names: Renamer,
): VolumeStep[] {
  for (const v of chosen ?? []) {
    if (!point.volumes.some((s) => s.name === v))
      throw new AppError("not_found", `restore point ${point.key} has no volume ${v}`, {
        hint: `volumes in it: ${point.volumes.map((s) => s.name).join(", ") || "none"}`,
      });
  }
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
        options: meta?.options ?? {},
        labels: names.labels(meta?.labels ?? {}),
      };
    });
}

/** The point's bind mounts; a single-file bind (the recipe says `kind: file`) stays a file. */
export function planBinds(
  point: RestorePoint,
  recipe: LoadedRecipe | undefined,
  state: CurrentState,
  names: Renamer,
): BindStep[] {
  return point.binds.map((b) => {
    const path = names.bind(b.source);
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
    };
  });
}

/** Compose and project files into the target dir: created, overwritten (old kept) or left alone. */
export function planFiles(recipe: LoadedRecipe, state: CurrentState, targetDir: string): FileStep[] {
  return recipe.files.map((f) => {
    const to = join(targetDir, targetName(f.stored, recipe));
    const old = state.fileHashes[to];
    return {
      stored: f.stored,
      to,
      action: old === undefined ? "create" : old === f.sha256 ? "same" : "overwrite",
    };
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
 * Networks the unit used: created when missing, kept when equal. One that exists with another
 * driver or subnet is replaced only when the request allows it (`--recreate-networks`, or consent in
 * the wizard); otherwise it is a conflict, which the executor refuses before changing anything.
 */
export function planNetworks(
  recipe: LoadedRecipe,
  state: CurrentState,
  req: RestoreRequest,
  names: Renamer,
): NetworkStep[] {
  const wanted = new Set(recipe.unit.networks);
  return recipe.networks
    .filter((n) => wanted.has(n.Name))
    .map((inspect): NetworkStep => {
      const name = names.network(inspect.Name, inspect.Labels ?? {});
      const existing = state.networks[name];
      if (!existing) return { name, action: "create", inspect };
      const subnets = (inspect.IPAM?.Config ?? [])
        .map((c) => c.Subnet)
        .filter((s): s is string => Boolean(s));
      const conflict =
        existing.driver !== inspect.Driver || subnets.some((s) => !existing.subnets.includes(s));
      if (!conflict) return { name, action: "keep", inspect };
      const note = `exists with driver ${existing.driver}, subnet ${existing.subnets.join(",") || "none"}; the backup has ${inspect.Driver}, ${subnets.join(",") || "none"}`;
      return { name, action: req.recreateNetworks ? "recreate" : "conflict", inspect, note };
    });
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
