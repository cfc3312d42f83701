import { isAbsolute, posix } from "node:path";
import { pathUnder } from "../safe-paths.ts";
import { composeProjectOf, type Renamer, renamer } from "./names.ts";
import type { LoadedRecipe } from "./recipe.ts";
import type { RestoreRequest } from "./types.ts";

/**
 * Where a restored unit lives. A compose unit restored in place comes back at the directory it was
 * backed up from (`home`, the recipe's `workingDir`): its compose and project files go there and it
 * starts from there, so relative paths (`./uploads`) resolve to the restored bind data as they did.
 * Anywhere else (`--as`, `--target-dir`, a recipe without a usable working dir) the unit is
 * `relocated`: its files go to `dir`, and the compose override (compose-override.ts) pins every
 * bind mount to where its data was restored.
 */
export interface UnitLayout {
  /** Where compose and project files go; compose's project directory. */
  dir: string;
  /** The directory the unit was backed up from, when the recipe names a usable one. */
  home?: string;
  relocated: boolean;
  names: Renamer;
}

export function unitLayout(
  request: Pick<RestoreRequest, "as" | "targetDir">,
  recipe: LoadedRecipe | undefined,
  restoreDir: string,
  unit: string,
): UnitLayout {
  const home = recipe?.unit.type === "compose" ? usableDir(recipe.unit.workingDir) : undefined;
  const atHome = home !== undefined && !request.as && (!request.targetDir || request.targetDir === home);
  const dir = atHome ? home : (request.targetDir ?? pathUnder(restoreDir, request.as ?? unit));
  return {
    dir,
    ...(home ? { home } : {}),
    relocated: !atHome,
    names: renamer(request.as, dir, home, composeProjectOf(recipe)),
  };
}

/** An absolute, normalised directory other than `/`; anything else from a recipe is not used. */
function usableDir(p: string | null | undefined): string | undefined {
  if (!p || !isAbsolute(p) || p.includes("\0")) return undefined;
  const n = posix.normalize(p).replace(/\/+$/, "");
  return n && n === p.replace(/\/+$/, "") ? n : undefined;
}
