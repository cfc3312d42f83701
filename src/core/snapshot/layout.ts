/**
 * Where things live inside a recipe snapshot (ARCHITECTURE.md "Recipe layout"). Backup writes these
 * names and restore reads them; neither spells them out itself.
 */
export const RECIPE = {
  /** The unit's description (`UnitJsonSchema`). */
  unitJson: "unit.json",
  /** Compose files in label order, `NN-<basename>`. */
  composeDir: "compose",
  /** Project files found next to the compose files (`.env`, `*.conf`, …). */
  projectDir: "project",
  /** `docker inspect` per container, `<name>.json`, redacted. */
  inspectDir: "inspect",
  /** What the backup protected and what it did not. */
  coverage: "coverage.json",
} as const;

/**
 * Project files a backup copies from next to the compose files (restore needs them to bring the stack
 * back); restore writes no other name from a recipe's `project/`.
 */
export const PROJECT_FILE = /^\.env.*$|\.env$|\.conf$|\.config$|\.toml$|\.ini$/;

/** The networks snapshot's one file: full `docker network inspect` objects. */
export const NETWORKS_JSON = "networks.json";

/** The path inside the recipe of the `index`-th (0-based) compose file: NN keeps equal basenames apart. */
export function storedComposeName(index: number, basename: string): string {
  return `${RECIPE.composeDir}/${String(index + 1).padStart(2, "0")}-${basename}`;
}
