import { lstatSync, readlinkSync } from "node:fs";
import { isAbsolute, posix, relative, resolve } from "node:path";
import { AppError } from "./errors.ts";

/** A path that would leave the directory it must stay in, or is not a clean absolute path. */
export class UnsafePathError extends AppError {
  readonly path: string;
  constructor(message: string, path: string, hint?: string) {
    super("restore_failed", message, hint ? { hint } : {});
    this.path = path;
  }
}

/**
 * `root` joined with `parts`, asserted to stay at or under `root`. Throws UnsafePathError for any
 * part that would climb out (`..`, an absolute part that is not under root, NUL).
 */
export function pathUnder(root: string, ...parts: string[]): string {
  const base = resolve(root);
  const all = [base, ...parts];
  if (all.some((p) => p.includes("\0"))) throw new UnsafePathError(`a path part holds a NUL byte`, base);
  const full = resolve(base, ...parts.map((p) => p.replace(/^\/+/, "")));
  const rel = relative(base, full);
  if (rel === "" || (rel !== ".." && !rel.startsWith("../") && !isAbsolute(rel))) return full;
  throw new UnsafePathError(`${parts.join("/")} leaves ${base}`, full);
}

/**
 * Why `p` is not a clean absolute host path (absolute, normalised, no `..`, no control characters),
 * or undefined when it is.
 */
export function cleanPathProblem(p: string): string | undefined {
  if (!p.startsWith("/")) return `${JSON.stringify(p)} is not an absolute path`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(p)) return `${JSON.stringify(p)} holds control characters`;
  if (p.split("/").includes("..")) return `${JSON.stringify(p)} contains ..`;
  const norm = posix.normalize(p);
  if (norm !== p && `${norm}/` !== p) return `${JSON.stringify(p)} is not normalised (${norm})`;
  return undefined;
}

/**
 * The first symlink at `path` or in one of its directories below `root` (root itself is trusted),
 * with where it points; undefined when there is none. Missing components end the walk: nothing
 * below a missing directory can be a link.
 */
export function symlinkAtOrAbove(path: string, root = "/"): { link: string; to: string } | undefined {
  const base = resolve(root);
  const rel = relative(base, resolve(path));
  if (rel === ".." || rel.startsWith("../") || isAbsolute(rel))
    throw new UnsafePathError(`${path} is not under ${base}`, path);
  let at = base;
  for (const part of rel.split("/").filter(Boolean)) {
    at = posix.join(at, part);
    const st = lstatSync(at, { throwIfNoEntry: false });
    if (!st) return undefined;
    if (st.isSymbolicLink()) return { link: at, to: readlinkSync(at) };
  }
  return undefined;
}
