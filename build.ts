#!/usr/bin/env bun
/**
 * Compiles src/cli.ts into self-contained executables under dist/, with the version and commit baked
 * in, and writes dist/SHA256SUMS. Usage: bun run build.ts [--all] [target…]
 *   default: bun-linux-x64 only; --all: also arm64 and x64-baseline (their runtimes come from npm).
 * A stray .env or bunfig.toml in the directory the binary runs from must never change what a backup
 * tool does, so both autoloads are off.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import pkg from "./package.json" with { type: "json" };

const ALL_TARGETS = ["bun-linux-x64", "bun-linux-arm64", "bun-linux-x64-baseline"] as const;
type Target = (typeof ALL_TARGETS)[number];

const argv = process.argv.slice(2);
const targets: Target[] = argv.includes("--all")
  ? [...ALL_TARGETS]
  : argv.length
    ? (argv.filter((a) => !a.startsWith("-")) as Target[])
    : ["bun-linux-x64"];
const commit = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"]).stdout.toString().trim() || "unknown";

mkdirSync("dist", { recursive: true });
for (const target of targets) {
  const outfile = `dist/kopi-docka-${target.replace(/^bun-/, "")}`;
  const result = await Bun.build({
    entrypoints: ["src/cli.ts"],
    minify: true,
    bytecode: true,
    format: "esm", // bytecode defaults to cjs, which fails on import.meta
    sourcemap: "linked",
    define: { __VERSION__: JSON.stringify(pkg.version), __COMMIT__: JSON.stringify(commit) },
    compile: { target, outfile, autoloadDotenv: false, autoloadBunfig: false },
    throw: false,
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    process.exit(1);
  }
  console.error(`built ${outfile} (${target}, ${pkg.version}, ${commit})`);
}

const sums = readdirSync("dist")
  .filter((f) => f.startsWith("kopi-docka-") && !f.endsWith(".map"))
  .sort()
  .map(
    (f) =>
      `${createHash("sha256")
        .update(readFileSync(`dist/${f}`))
        .digest("hex")}  ${f}`,
  );
writeFileSync("dist/SHA256SUMS", `${sums.join("\n")}\n`);
console.error(`wrote dist/SHA256SUMS (${sums.length} files)`);
