import { createHash } from "node:crypto";
import { lstatSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import {
  dirProjectName,
  type ProjectNameEdit,
  setComposeName,
  setEnvProjectName,
} from "./copy-project-name.ts";
import type { LoadedRecipe } from "./recipe.ts";
import type { FileStep } from "./types.ts";

/** The `.env` file compose reads from the project directory, as the recipe stores it. */
export const STORED_ENV = "project/.env";

/**
 * How a copy's restored files are edited so that compose, run in the copy's directory without `-p`,
 * names the copy's project (copy-project-name.ts): per stored file the edit and the sha256 of what
 * is written (a copy restored again over its own files finds them the same). `warnings`: what no
 * edit could make safe, with the `-p` to pass.
 */
export interface CopyNaming {
  files: Record<string, { edit: ProjectNameEdit; sha256: string }>;
  /**
   * The `COMPOSE_PROJECT_NAME` the copy's `.env`, as written from the recipe, sets: the copy's name
   * (every line of it rewritten, or one added). Unset when there is no `.env` or it is left as it is.
   */
  envName?: string;
  warnings: string[];
}

/** Pure: the recipe's `.env` and compose texts (latin1) → the edits. `dir`: the copy's directory. */
export function planCopyNaming(
  texts: { env?: string; compose: { stored: string; text: string }[] },
  as: string,
  dir: string,
): CopyNaming {
  const files: CopyNaming["files"] = {};
  const warnings: string[] = [];
  const add = (stored: string, edit: ProjectNameEdit, before: string, after: string) => {
    if (after !== before) files[stored] = { edit, sha256: sha256(after) };
  };
  let namedByFile = false;
  let unsafeName = false;
  for (const c of texts.compose) {
    const r = setComposeName(c.text, as);
    namedByFile ||= r.found;
    unsafeName ||= r.unsafe;
    add(c.stored, { kind: "compose", name: as }, c.text, r.text);
  }
  const env = texts.env === undefined ? undefined : setEnvProjectName(texts.env, as);
  // compose v2 takes COMPOSE_PROJECT_NAME over `name:`; v1 reads only the former (or the directory).
  const dirName = dirProjectName(basename(dir));
  const needsLine = !env?.found && (unsafeName || (!namedByFile && dirName !== as));
  const why = env?.unsafe
    ? "its .env sets COMPOSE_PROJECT_NAME in a form not rewritten here"
    : needsLine && texts.env === undefined
      ? unsafeName
        ? "a compose file's top-level name: is not a plain name, a variable perhaps, and there is no .env"
        : `compose would name it after the directory, ${dirName || "(empty)"}, and there is no .env`
      : undefined;
  const envNamed = texts.env !== undefined && env !== undefined && !env.unsafe && (env.found || needsLine);
  if (texts.env !== undefined && env && !env.unsafe) {
    const appended = needsLine ? setEnvProjectName(texts.env, as, true).text : env.text;
    add(
      STORED_ENV,
      { kind: "env", name: as, ...(needsLine ? { append: true as const } : {}) },
      texts.env,
      appended,
    );
  }
  if (why)
    warnings.push(
      `compose run in ${dir} would not name the copy's project (${why}): pass -p ${as} to every compose ` +
        `command there (docker-compose -p ${as} down -v removes the copy), or it acts on another project`,
    );
  return { files, ...(envNamed ? { envName: as } : {}), warnings };
}

/**
 * What no edit of a copy's files made safe (copy-naming.ts), and a `.env` a restored bind writes
 * instead of the recipe (`./.env:/app/.env`): it is the original's, naming the original's project.
 */
export function copyNamingWarnings(
  naming: CopyNaming,
  files: readonly FileStep[],
  as: string,
  dir: string,
): string[] {
  const bound = naming.files[STORED_ENV] && !files.some((f) => f.stored === STORED_ENV);
  return [
    ...naming.warnings,
    ...(bound
      ? [
          `${join(dir, ".env")} is restored from a bind and may name the original's compose project: pass ` +
            `-p ${as} to every compose command in ${dir} (docker-compose -p ${as} down -v removes the copy)`,
        ]
      : []),
  ];
}

/** Reads the recipe's `.env` and compose files for `planCopyNaming`. */
export function readCopyNaming(recipe: LoadedRecipe, as: string, dir: string): CopyNaming {
  const text = (stored: string) => {
    const path = join(recipe.dir, stored);
    return lstatSync(path, { throwIfNoEntry: false })?.isFile()
      ? readFileSync(path).toString("latin1")
      : undefined;
  };
  const env = recipe.files.some((f) => f.stored === STORED_ENV) ? text(STORED_ENV) : undefined;
  const compose = recipe.unit.composeFiles.flatMap((c) => {
    const t = text(c.stored);
    return t === undefined ? [] : [{ stored: c.stored, text: t }];
  });
  return planCopyNaming({ ...(env !== undefined ? { env } : {}), compose }, as, dir);
}

function sha256(latin1: string): string {
  return createHash("sha256").update(Buffer.from(latin1, "latin1")).digest("hex");
}
