import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dir, "../../..");

/** Every module specifier in `text`: static imports and re-exports, side-effect and dynamic imports. */
function importSpecifiers(text: string): string[] {
  const patterns = [
    /\b(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  return patterns.flatMap((re) => [...text.matchAll(re)].map((m) => m[1] as string));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

test("the specifier reader sees every form of import", () => {
  const text = [
    'import { a } from "../../ui/output.ts";',
    'import type {\n  B,\n  C,\n} from "../ui/x.ts";',
    'export { d } from "./d.ts";',
    'import "./side-effect.ts";',
    'const m = await import("../../ui/lazy.ts");',
  ].join("\n");
  expect(importSpecifiers(text).sort()).toEqual(
    ["../../ui/output.ts", "../ui/x.ts", "./d.ts", "./side-effect.ts", "../../ui/lazy.ts"].sort(),
  );
});

// The layers of ARCHITECTURE.md: each folder and the folders above it that it must never import.
test.each([
  ["src/core", /^src\/(ui|commands|systemd)\//],
  ["src/config", /^src\/(ui|commands|systemd)\//],
  ["src/systemd", /^src\/(ui|commands)\//],
] as const)("%s never imports %s (its import graph, read from the import lines)", (folder, above) => {
  const files = sourceFiles(join(root, folder));
  expect(files.length).toBeGreaterThan(5);
  const upward = files.flatMap((file) =>
    importSpecifiers(readFileSync(file, "utf8"))
      .filter((s) => s.startsWith("."))
      .map((s) => relative(root, resolve(dirname(file), s)))
      .filter((target) => above.test(target))
      .map((target) => `${relative(root, file)} → ${target}`),
  );
  expect(upward).toEqual([]);
});
