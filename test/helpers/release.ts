import { existsSync, readFileSync } from "node:fs";
import { join, normalize } from "node:path";
import pkg from "../../package.json" with { type: "json" };

const repo = join(import.meta.dir, "..", "..");

export interface Release {
  /** The release directory on disk, and its name under the served root ("v0.1.0"). */
  path: string;
  dirName: string;
  version: string;
  /** A second version, built slim only, to upgrade to ("9.9.9" under v9.9.9/). */
  next: string;
  slim: string;
  full: string;
  kopiaVersion: string;
}

/** The artifact variant install.sh and `upgrade` pick on this CPU. */
export function hostVariant(): string {
  if (process.arch === "arm64") return "arm64";
  return /\bavx2\b/.test(readFileSync("/proc/cpuinfo", "utf8")) ? "x64" : "x64-baseline";
}

async function build(args: string[]): Promise<void> {
  const p = Bun.spawn([process.execPath, "run", "build.ts", ...args], {
    cwd: repo,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  if (code !== 0) throw new Error(`build.ts ${args.join(" ")} failed (${code}):\n${out}${err}`);
}

/**
 * Builds, under `root`, this version's release for this CPU only (slim and full, LICENSE, install.sh,
 * SHA256SUMS: `build.ts --release`) and a slim "9.9.9" to upgrade to. Never arm64 on x64: the cross
 * builds are for `build.ts --release` by hand.
 */
export async function buildRelease(root: string): Promise<Release> {
  const variant = hostVariant();
  const target = `bun-linux-${variant}`;
  const dirName = `v${pkg.version}`;
  const next = "9.9.9";
  await build(["--release", "--out", join(root, dirName), target]);
  await build(["--set-version", next, "--out", join(root, `v${next}`), target]);
  const kopiaVersion =
    /^KOPIA_VERSION=(\S+)$/m.exec(readFileSync(join(repo, "install.sh"), "utf8"))?.[1] ?? "";
  return {
    path: join(root, dirName),
    dirName,
    version: pkg.version,
    next,
    slim: `kopi-docka-linux-${variant}`,
    full: `kopi-docka-linux-${variant}-full`,
    kopiaVersion,
  };
}

/** A static file server for `root` on 127.0.0.1 (a free port); 404 for anything outside or missing. */
export function serveDir(root: string) {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = normalize(join(root, decodeURIComponent(new URL(req.url).pathname)));
      if (!path.startsWith(`${root}/`) || !existsSync(path))
        return new Response("not found", { status: 404 });
      return new Response(Bun.file(path));
    },
  });
}
