import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dir, "../../..");
const core = join(root, "src/core");

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

test("core never imports src/ui or src/commands (the import graph of src/core/**)", () => {
  const files = sourceFiles(core);
  expect(files.length).toBeGreaterThan(50);
  const upward = files.flatMap((file) =>
    importSpecifiers(readFileSync(file, "utf8"))
      .filter((s) => s.startsWith("."))
      .map((s) => relative(root, resolve(dirname(file), s)))
      .filter((target) => /^src\/(ui|commands)\//.test(target))
      .map((target) => `${relative(root, file)} → ${target}`),
  );
  expect(upward).toEqual([]);
});
