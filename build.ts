#!/usr/bin/env bun
/**
 * Compiles src/cli.ts into self-contained executables, with the version and commit baked in, and
 * writes SHA256SUMS beside them.
 *
 *   bun run build.ts [target…]        dist/kopi-docka-linux-x64 (the slim binary; what the tests use)
 *   bun run build.ts --full [target…] also dist/kopi-docka-linux-<arch>-full, with kopia inside
 *   bun run build.ts --all            slim binaries for every target
 *   --out DIR, --set-version V        write elsewhere; build as version V (tests build a second release)
 *   bun run build.ts --release [--out DIR] [target…]
 *                                     every target (or those named), slim and full, kopia's LICENSE and
 *                                     NOTICE, this version's install.sh and SHA256SUMS into DIR
 *                                     (default dist/release): a release directory to upload as it is.
 *
 * The full binary's kopia is cross-built from its Go module by `install.sh --kopia-cross` (pinned go,
 * CGO off, -trimpath; cached by version and arch under the tools cache, so only the first build waits).
 * A stray .env or bunfig.toml in the directory the binary runs from must never change what a backup
 * tool does, so both autoloads are off.
 */
import { createHash } from "node:crypto";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "./package.json" with { type: "json" };
import { EMBEDDED_KOPIA_NAME, EMBEDDED_LICENSE_NAME } from "./src/core/kopia/embedded.ts";

const ALL_TARGETS = ["bun-linux-x64", "bun-linux-arm64", "bun-linux-x64-baseline"] as const;
type Target = (typeof ALL_TARGETS)[number];
const GOARCH: Record<Target, string> = {
  "bun-linux-x64": "amd64",
  "bun-linux-x64-baseline": "amd64",
  "bun-linux-arm64": "arm64",
};

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const outIndex = argv.indexOf("--out");
// --set-version V: build as version V (tests make a second release to upgrade to).
const versionIndex = argv.indexOf("--set-version");
const version = versionIndex >= 0 ? (argv[versionIndex + 1] ?? "") : pkg.version;
const release = flag("--release");
const outDir = outIndex >= 0 ? (argv[outIndex + 1] ?? "") : release ? "dist/release" : "dist";
const valueAt = new Set([outIndex, versionIndex].filter((i) => i >= 0).map((i) => i + 1));
const named = argv.filter((a, i) => !a.startsWith("-") && !valueAt.has(i));
for (const t of named)
  if (!ALL_TARGETS.includes(t as Target)) fail(`unknown target ${t} (${ALL_TARGETS.join(", ")})`);
const targets: Target[] = named.length
  ? (named as Target[])
  : flag("--all") || release
    ? [...ALL_TARGETS]
    : ["bun-linux-x64"];
const full = release || flag("--full");
const commit = gitCommit();
const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** The short commit, or "unknown" for a tree without git (a tarball, a machine without git installed). */
function gitCommit(): string {
  try {
    return (
      Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { stderr: "ignore" }).stdout.toString().trim() ||
      "unknown"
    );
  } catch {
    return "unknown";
  }
}

function fail(message: string): never {
  console.error(`build: ${message}`);
  process.exit(1);
}

/** kopia for linux/<goarch> and its LICENSE, from install.sh's cached, reproducible cross-build. */
function crossKopia(goarch: string): { dir: string; version: string } {
  const r = Bun.spawnSync(["sh", "install.sh", "--kopia-cross", goarch], { stderr: "inherit" });
  const dir = r.stdout.toString().trim().split("\n").at(-1) ?? "";
  if (!r.success || !dir) fail(`install.sh --kopia-cross ${goarch} failed`);
  const version = /^KOPIA_VERSION=(\S+)$/m.exec(readFileSync("install.sh", "utf8"))?.[1];
  if (!version) fail("install.sh names no KOPIA_VERSION");
  return { dir, version };
}

async function compile(target: Target, outfile: string, kopia?: { dir: string; version: string }) {
  const define: Record<string, string> = {
    __VERSION__: JSON.stringify(version),
    __COMMIT__: JSON.stringify(commit),
  };
  const entrypoints = ["src/cli.ts"];
  let stage: string | undefined;
  if (kopia) {
    // Staged under fixed names: the binary finds them in Bun.embeddedFiles by name.
    stage = mkdtempSync(join(tmpdir(), "kopi-docka-embed-"));
    copyFileSync(join(kopia.dir, "kopia"), join(stage, EMBEDDED_KOPIA_NAME));
    copyFileSync(join(kopia.dir, "LICENSE"), join(stage, EMBEDDED_LICENSE_NAME));
    entrypoints.push(join(stage, EMBEDDED_KOPIA_NAME), join(stage, EMBEDDED_LICENSE_NAME));
    define.__KOPIA_EMBEDDED__ = JSON.stringify({
      version: kopia.version,
      sha256: sha256(join(kopia.dir, "kopia")),
    });
  }
  const result = await Bun.build({
    entrypoints,
    minify: true,
    bytecode: true,
    format: "esm", // bytecode defaults to cjs, which fails on import.meta
    sourcemap: "linked",
    naming: { asset: "[name].[ext]" },
    define,
    compile: { target, outfile, autoloadDotenv: false, autoloadBunfig: false },
    throw: false,
  });
  if (stage) rmSync(stage, { recursive: true, force: true });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    process.exit(1);
  }
  console.error(`built ${outfile} (${target}${kopia ? `, kopia ${kopia.version} inside` : ""})`);
}

mkdirSync(outDir, { recursive: true });
if (release) for (const f of readdirSync(outDir)) rmSync(join(outDir, f), { recursive: true, force: true });
const kopias = new Map<string, { dir: string; version: string }>();
for (const target of targets) {
  const base = join(outDir, `kopi-docka-${target.replace(/^bun-/, "")}`);
  await compile(target, base);
  if (!full) continue;
  const goarch = GOARCH[target];
  if (!kopias.has(goarch)) kopias.set(goarch, crossKopia(goarch));
  await compile(target, `${base}-full`, kopias.get(goarch));
}

if (release) {
  const kopia = [...kopias.values()][0];
  if (kopia) {
    copyFileSync(join(kopia.dir, "LICENSE"), join(outDir, "kopia-LICENSE"));
    writeFileSync(
      join(outDir, "kopia-NOTICE"),
      `The kopi-docka-linux-*-full binaries contain kopia v${kopia.version} (https://kopia.io), Copyright the\n` +
        "Kopia Authors, licensed under the Apache License 2.0 (kopia-LICENSE). It is built unmodified from the Go\n" +
        `module github.com/kopia/kopia@v${kopia.version} (CGO off, -trimpath). kopia ships no NOTICE file of its own.\n` +
        `kopi-docka extracts it to <state_dir>/bin/kopia-${kopia.version}, with its LICENSE beside it.\n`,
    );
  }
  // This version's installer installs this version by default.
  const installer = readFileSync("install.sh", "utf8").replace(
    /^INSTALLER_VERSION=.*$/m,
    `INSTALLER_VERSION=${version}`,
  );
  writeFileSync(join(outDir, "install.sh"), installer, { mode: 0o755 });
  for (const f of readdirSync(outDir)) if (f.endsWith(".map")) rmSync(join(outDir, f));
}

const sums = readdirSync(outDir)
  .filter((f) => (release ? f !== "SHA256SUMS" : f.startsWith("kopi-docka-")) && !f.endsWith(".map"))
  .sort()
  .map((f) => `${sha256(join(outDir, f))}  ${f}`);
writeFileSync(join(outDir, "SHA256SUMS"), `${sums.join("\n")}\n`);
console.error(`wrote ${join(outDir, "SHA256SUMS")} (${sums.length} files)`);
