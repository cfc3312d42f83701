import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { acquireLock } from "../../src/core/lock/acquire.ts";
import { tempDir, writeTestConfig } from "../helpers/env.ts";
import { buildRelease, type Release, serveDir } from "../helpers/release.ts";

/**
 * The release as a user meets it: a release directory built by build.ts, served over HTTP on loopback,
 * installed with `curl … | sh` (really piped) into scratch prefixes and unit dirs, upgraded, rolled
 * back and uninstalled by the installed binary and installer themselves.
 */
const dir = tempDir("kdt-release-");
const root = join(dir.path, "www");
let release: Release;
let server: ReturnType<typeof serveDir>;
let url = "";

beforeAll(async () => {
  release = await buildRelease(root);
  server = serveDir(root);
  url = `http://127.0.0.1:${server.port}`;
}, 600_000);
afterAll(() => {
  server?.stop(true);
  dir.remove();
});

interface Shell {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function sh(script: string, args: string[] = [], env: Record<string, string> = {}): Promise<Shell> {
  const p = Bun.spawn(["sh", "-c", script, "sh", ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1", CI: "true", KOPI_DOCKA_CONFIG: "", ...env },
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { exitCode, stdout, stderr };
}

/** `curl <url>/<release>/install.sh | sh -s -- <args>`, as the README says. */
const curlPipe = (releaseDir: string, args: string[], base = url) =>
  sh('u=$1 d=$2; shift 2; curl -fsSL "$u/$d/install.sh" | sh -s -- "$@"', [base, releaseDir, ...args], {
    KOPI_DOCKA_RELEASE_URL: base,
  });

/** A fresh scratch install target: prefix, unit dir, config path. */
function target(name: string) {
  const base = join(dir.path, name);
  const t = {
    prefix: join(base, "bin"),
    units: join(base, "units"),
    config: join(base, "etc", "config.toml"),
  };
  mkdirSync(t.units, { recursive: true });
  const flags = ["--prefix", t.prefix, "--unit-dir", t.units, "--config", t.config, "--no-enable"];
  return { ...t, flags, binary: join(t.prefix, "kopi-docka") };
}

/** Every file under `path` with its size and mtime: "nothing changed" is this staying equal. */
function snapshotTree(path: string): string {
  if (!existsSync(path)) return "";
  const out: string[] = [];
  const walk = (p: string) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const f = join(p, e.name);
      if (e.isDirectory()) walk(f);
      else out.push(`${f} ${statSync(f).size} ${statSync(f).mtimeMs} ${statSync(f).mode}`);
    }
  };
  walk(path);
  return out.sort().join("\n");
}

const versionOf = async (binary: string) => (await sh('"$1" --version', [binary])).stdout.trim();

describe("curl | sh from a release on loopback", () => {
  const t = target("fresh");

  test("installs the binary 0755, the units and a default config; prints next steps", async () => {
    const r = await curlPipe(release.dirName, t.flags);
    expect(r.stderr).toContain("verified kopi-docka-linux-");
    expect(r.exitCode).toBe(0);
    expect(statSync(t.binary).mode & 0o777).toBe(0o755);
    // kopia >= 0.21 is on this machine's PATH, so the installer picks the slim build.
    expect(readFileSync(t.binary)).toEqual(readFileSync(join(release.path, release.slim)));
    expect(await versionOf(t.binary)).toBe(release.version);
    expect(readdirSync(t.units).sort()).toEqual([
      "kopi-docka-backup.service",
      "kopi-docka-backup.timer",
      "kopi-docka-freshness.service",
      "kopi-docka-freshness.timer",
    ]);
    const service = readFileSync(join(t.units, "kopi-docka-backup.service"), "utf8");
    expect(service).toContain(`ExecStart=${t.binary} `);
    expect(service).toContain(t.config);
    expect(readFileSync(t.config, "utf8")).toContain("[repository]");
    expect(r.stderr).toContain("next steps:");
    expect(readdirSync(t.prefix)).toEqual(["kopi-docka"]); // no temporary file left
  });

  test("a second run says already installed and changes nothing; an edited config is kept", async () => {
    writeFileSync(t.config, `${readFileSync(t.config, "utf8")}\n# mine\n`);
    const before = snapshotTree(join(dir.path, "fresh"));
    const r = await curlPipe(release.dirName, t.flags);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("already installed");
    expect(r.stderr).toContain(`kept the existing config ${t.config}`);
    expect(snapshotTree(join(dir.path, "fresh"))).toBe(before);
  });

  test("a download cut off anywhere runs nothing", async () => {
    const text = readFileSync(join(release.path, "install.sh"), "utf8");
    const c = target("cut");
    for (const at of [text.lastIndexOf("main "), Math.floor(text.length * 0.6), 200]) {
      const part = join(dir.path, `install-cut-${at}.sh`);
      writeFileSync(part, text.slice(0, at));
      const r = await sh('p=$1; shift; cat "$p" | sh -s -- "$@"', [part, ...c.flags]);
      expect(r.stdout).toBe("");
      expect(r.stderr).not.toContain("install:");
      expect(existsSync(c.prefix)).toBe(false);
      expect(existsSync(c.config)).toBe(false);
    }
  });

  test("--full installs the binary with kopia inside", async () => {
    const f = target("full");
    const r = await curlPipe(release.dirName, [...f.flags, "--full", "--no-timer"]);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(f.binary)).toEqual(readFileSync(join(release.path, release.full)));
    expect(readdirSync(f.units)).toEqual([]);
    const v = JSON.parse((await sh('"$1" version --json', [f.binary])).stdout);
    expect(v.kopiaEmbedded).toBe(release.kopiaVersion);
  });

  test("--dry-run prints every action and changes nothing", async () => {
    const d = target("dry");
    const r = await curlPipe(release.dirName, [...d.flags, "--dry-run"]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(`would run: mv -f ${d.binary}.new.`);
    expect(r.stderr).toContain("would run: ");
    expect(r.stderr).toContain("systemd install");
    expect(existsSync(d.prefix)).toBe(false);
    expect(readdirSync(d.units)).toEqual([]);
    expect(existsSync(d.config)).toBe(false);
  });

  for (const [what, spoil] of [
    ["a corrupted artifact", (d: string) => flipByte(join(d, release.slim))],
    ["a wrong SHA256SUMS", (d: string) => rewriteSum(join(d, "SHA256SUMS"), release.slim)],
  ] as const) {
    test(`${what} is refused and nothing changes (fresh and installed targets)`, async () => {
      const bad = spoiledCopy(what.replace(/\W+/g, "-"), spoil);
      const fresh = target(`refused-${bad}`);
      const r = await curlPipe(bad, fresh.flags);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain("checksum mismatch");
      expect(existsSync(fresh.prefix)).toBe(false);
      expect(readdirSync(fresh.units)).toEqual([]);
      expect(existsSync(fresh.config)).toBe(false);

      const before = snapshotTree(join(dir.path, "fresh"));
      const again = await curlPipe(bad, t.flags);
      expect(again.exitCode).not.toBe(0);
      expect(snapshotTree(join(dir.path, "fresh"))).toBe(before);
    });
  }

  test("--binary FILE installs a copied file, checked against the SHA256SUMS beside it", async () => {
    const media = join(dir.path, "usb");
    mkdirSync(media, { recursive: true });
    copyFileSync(join(release.path, release.slim), join(media, release.slim));
    copyFileSync(join(release.path, "SHA256SUMS"), join(media, "SHA256SUMS"));
    const installer = join(release.path, "install.sh");
    const a = target("airgap");
    const ok = await sh('sh "$@"', [installer, "--binary", join(media, release.slim), ...a.flags]);
    expect(ok.exitCode).toBe(0);
    expect(await versionOf(a.binary)).toBe(release.version);

    flipByte(join(media, release.slim));
    const b = target("airgap-bad");
    const bad = await sh('sh "$@"', [installer, "--binary", join(media, release.slim), ...b.flags]);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain("checksum mismatch");
    expect(existsSync(b.prefix)).toBe(false);
  });

  test("--binary FILE that does not run here replaces nothing; one that runs keeps the old as .previous", async () => {
    const installer = join(release.path, "install.sh");
    const a = target("reinstall");
    const media = join(dir.path, "usb-reinstall");
    mkdirSync(media, { recursive: true });
    const offer = (script: string) => {
      const file = join(media, release.slim);
      writeFileSync(file, script, { mode: 0o755 });
      const sum = new Bun.CryptoHasher("sha256").update(readFileSync(file)).digest("hex");
      writeFileSync(join(media, "SHA256SUMS"), `${sum}  ${release.slim}\n`);
      return sh('sh "$@"', [installer, "--binary", file, ...a.flags]);
    };
    copyFileSync(join(release.path, release.slim), join(media, release.slim));
    copyFileSync(join(release.path, "SHA256SUMS"), join(media, "SHA256SUMS"));
    const first = await sh('sh "$@"', [installer, "--binary", join(media, release.slim), ...a.flags]);
    expect(first.exitCode).toBe(0);
    const installed = readFileSync(a.binary);
    // Checksum right, but it cannot start here (another CPU's build, a truncated copy).
    const broken = await offer("#!/bin/sh\nexit 126\n");
    expect(broken.exitCode).not.toBe(0);
    expect(broken.stderr).toContain("does not run on this machine");
    expect(readFileSync(a.binary).equals(installed)).toBe(true);
    expect(existsSync(`${a.binary}.previous`)).toBe(false);
    expect(readdirSync(a.prefix)).toEqual(["kopi-docka"]);
    // Runs, but cannot remove its units (systemctl timing out, say).
    const working = await offer(
      '#!/bin/sh\ncase "$1 $2" in "systemd uninstall") exit 1;; esac\n[ "$1" = --version ] && echo 0.0.0-test; exit 0\n',
    );
    expect(working.exitCode).toBe(0);
    expect(readFileSync(`${a.binary}.previous`).equals(installed)).toBe(true);
    expect(await versionOf(a.binary)).toBe("0.0.0-test");
    // A host without systemd (no unit dir, no units): the binary alone goes.
    const plain = join(dir.path, "no-systemd");
    const bare = [
      "--prefix",
      plain,
      "--unit-dir",
      join(plain, "no-unit-dir"),
      "--config",
      join(plain, "c.toml"),
    ];
    const rel = await curlPipe(release.dirName, [...bare, "--no-timer"]);
    expect(rel.exitCode).toBe(0);
    const off = await curlPipe(release.dirName, [...bare, "--uninstall"]);
    expect(off.exitCode).toBe(0);
    expect(existsSync(join(plain, "kopi-docka"))).toBe(false);
    // Its binary is never removed without its units: a timer would run a missing file every night.
    const gone = await sh('sh "$@"', [installer, ...a.flags, "--uninstall"]);
    expect(gone.exitCode).not.toBe(0);
    expect(gone.stderr).toContain("could not remove the units");
    expect(existsSync(a.binary)).toBe(true);
  });

  test("--uninstall removes binary and units, keeps config, password and repository, says where", async () => {
    const u = target("uninstall");
    expect((await curlPipe(release.dirName, u.flags)).exitCode).toBe(0);
    const password = join(dir.path, "uninstall", "repository.password");
    writeFileSync(password, "secret\n", { mode: 0o600 });
    const r = await curlPipe(release.dirName, [...u.flags, "--uninstall"]);
    expect(r.exitCode).toBe(0);
    expect(existsSync(u.binary)).toBe(false);
    expect(readdirSync(u.units)).toEqual([]);
    expect(existsSync(u.config)).toBe(true);
    expect(readFileSync(password, "utf8")).toBe("secret\n");
    expect(r.stderr).toContain(`kept: the config ${u.config}`);
    expect((await curlPipe(release.dirName, [...u.flags, "--uninstall"])).exitCode).toBe(0); // idempotent
  });
});

test("--with-deps, when `docker info` fails, installs docker.io and starts the engine (or says how)", async () => {
  // Stubs: a docker whose engine does not answer, and a dpkg that has nothing installed (dry run).
  const stubs = join(dir.path, "stubs");
  mkdirSync(stubs, { recursive: true });
  writeFileSync(join(stubs, "docker"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
  writeFileSync(join(stubs, "dpkg-query"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
  const w = target("with-deps");
  const binary = join(release.path, release.slim);
  const r = await sh(
    'sh "$@"',
    [join(release.path, "install.sh"), "--with-deps", "--dry-run", "--binary", binary, ...w.flags],
    {
      PATH: `${stubs}:/usr/sbin:/usr/bin:/sbin:/bin`,
    },
  );
  expect(r.exitCode).toBe(0);
  expect(r.stderr).toContain("would install: docker.io");
  if (existsSync("/run/systemd/system"))
    expect(r.stderr).toContain("would run: systemctl enable --now docker");
  else expect(r.stderr).toContain("nohup dockerd >/var/log/dockerd.log 2>&1 &");
  expect(existsSync(w.prefix)).toBe(false);
});

describe("kopi-docka upgrade and --rollback", () => {
  const t = target("upgrade");
  let config = "";

  beforeAll(async () => {
    config = writeTestConfig(join(dir.path, "upgrade", "kd"));
    const flags = ["--prefix", t.prefix, "--unit-dir", t.units, "--config", config, "--no-enable"];
    const r = await curlPipe(release.dirName, flags);
    if (r.exitCode !== 0) throw new Error(r.stderr);
  });

  const upgrade = (args: string[]) => sh('"$@"', [t.binary, "upgrade", "--config", config, ...args]);

  test("refuses while a backup holds the lock, and changes nothing", async () => {
    const lock = await acquireLock(join(dir.path, "upgrade", "kd", "kopi-docka.lock"), {
      runId: "test-backup",
      command: "backup",
    });
    try {
      const r = await upgrade(["--release-url", url, "--version", release.next]);
      expect(r.exitCode).toBe(11);
      expect(r.stderr).toMatch(/lock/i);
      expect(await versionOf(t.binary)).toBe(release.version);
      expect(existsSync(`${t.binary}.previous`)).toBe(false);
    } finally {
      lock.release();
    }
  });

  /** `upgrade` run with another config than the one `install.sh --config` wrote into the units. */
  const fromElsewhere = (args: string[]) => {
    const elsewhere = writeTestConfig(join(dir.path, "upgrade", "kd-other"));
    return sh('"$@"', [t.binary, "upgrade", "--unit-dir", t.units, ...args], {
      KOPI_DOCKA_CONFIG: elsewhere,
    });
  };
  const unitsLock = () => join(dir.path, "upgrade", "kd", "kopi-docka.lock");
  const otherLock = join(dir.path, "upgrade", "kd-other", "kopi-docka.lock");

  test("refuses while a backup of the config the units name holds its lock (this command read another)", async () => {
    const lock = await acquireLock(unitsLock(), { runId: "test-backup", command: "backup" });
    try {
      const r = await fromElsewhere(["--release-url", url, "--version", release.next]);
      expect(r.exitCode).toBe(11);
      expect(r.stderr).toContain(`holds the lock ${unitsLock()}`);
      expect(r.stderr).toContain(join(t.units, "kopi-docka-backup.service"));
      expect(await versionOf(t.binary)).toBe(release.version);
      expect(existsSync(`${t.binary}.previous`)).toBe(false);
      expect(existsSync(otherLock)).toBe(false); // its own lock, taken first, released
    } finally {
      lock.release();
    }
  });

  test("a corrupted release is refused and nothing changes", async () => {
    const bad = spoiledCopy("next-corrupt", (d) => flipByte(join(d, release.slim)), `v${release.next}`);
    const r = await upgrade(["--release-url", url, "--version", bad]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain("checksum mismatch");
    expect(await versionOf(t.binary)).toBe(release.version);
    expect(readdirSync(t.prefix)).toEqual(["kopi-docka"]);
  });

  test("--binary FILE: a copied file, refused when it differs from the SHA256SUMS beside it", async () => {
    const media = join(dir.path, "upgrade-media");
    mkdirSync(media, { recursive: true });
    const file = join(media, release.slim);
    copyFileSync(join(root, `v${release.next}`, release.slim), file);
    copyFileSync(join(root, `v${release.next}`, "SHA256SUMS"), join(media, "SHA256SUMS"));
    const dry = await upgrade(["--binary", file, "--dry-run"]);
    expect(dry.stdout).toContain("would replace");
    expect(await versionOf(t.binary)).toBe(release.version);
    flipByte(file);
    const bad = await upgrade(["--binary", file]);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain("checksum mismatch");
    expect(await versionOf(t.binary)).toBe(release.version);
  });

  test("a new binary that rejects this host's config is refused, and nothing changes", async () => {
    const media = join(dir.path, "upgrade-rejects");
    mkdirSync(media, { recursive: true });
    const file = join(media, release.slim);
    // Runs here, but a key of this config was renamed in it: every night would fail from then on.
    writeFileSync(
      file,
      '#!/bin/sh\ncase "$1" in --version) echo 9.9.9;; config) echo "unknown key backup.scope" >&2; exit 2;; esac\n',
      { mode: 0o755 },
    );
    const sum = new Bun.CryptoHasher("sha256").update(readFileSync(file)).digest("hex");
    writeFileSync(join(media, "SHA256SUMS"), `${sum}  ${release.slim}\n`);
    const r = await upgrade(["--binary", file]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`the new binary rejects ${config}: nothing was changed`);
    expect(r.stderr).toContain("unknown key backup.scope");
    expect(await versionOf(t.binary)).toBe(release.version);
    expect(readdirSync(t.prefix)).toEqual(["kopi-docka"]);
  });

  test("the config the installed units name is checked too, when this command read another", async () => {
    const media = join(dir.path, "upgrade-units");
    mkdirSync(media, { recursive: true });
    const file = join(media, release.slim);
    // Accepts any config but the one `install.sh --config` wrote into the units' ExecStart.
    writeFileSync(
      file,
      `#!/bin/sh\ncase "$1" in --version) echo 9.9.9;; config) [ "$4" = '${config}' ] && { echo "unknown key backup.scope" >&2; exit 2; };; esac\nexit 0\n`,
      { mode: 0o755 },
    );
    const sum = new Bun.CryptoHasher("sha256").update(readFileSync(file)).digest("hex");
    writeFileSync(join(media, "SHA256SUMS"), `${sum}  ${release.slim}\n`);
    const elsewhere = writeTestConfig(join(dir.path, "upgrade", "kd-elsewhere"));
    const r = await sh('"$@"', [t.binary, "upgrade", "--binary", file, "--unit-dir", t.units], {
      KOPI_DOCKA_CONFIG: elsewhere,
    });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`the new binary rejects ${config}: nothing was changed`);
    expect(await versionOf(t.binary)).toBe(release.version);
    expect(readdirSync(t.prefix)).toEqual(["kopi-docka"]);
  });

  test("--rollback with --dry-run or a source flag is a usage error, and nothing changes", async () => {
    for (const extra of [["--dry-run"], ["--version", release.next]]) {
      const r = await upgrade(["--rollback", ...extra]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain("--rollback puts back the kept binary");
    }
    expect(await versionOf(t.binary)).toBe(release.version);
  });

  test("replaces the binary with the checked new one and keeps the old one", async () => {
    const r = await upgrade(["--release-url", url, "--version", release.next]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`${release.version} → ${release.next}`);
    expect(await versionOf(t.binary)).toBe(release.next);
    expect(await versionOf(`${t.binary}.previous`)).toBe(release.version);
    expect(statSync(t.binary).mode & 0o777).toBe(0o755);
    expect(readdirSync(t.prefix).sort()).toEqual(["kopi-docka", "kopi-docka.previous"]);
    const same = await upgrade(["--release-url", url, "--version", release.next]);
    expect(same.stdout).toContain("nothing to do");
  });

  test("--rollback refuses while the backup of the config the units name holds its lock", async () => {
    const lock = await acquireLock(unitsLock(), { runId: "test-backup", command: "backup" });
    try {
      const r = await fromElsewhere(["--rollback"]);
      expect(r.exitCode).toBe(11);
      expect(r.stderr).toContain(`holds the lock ${unitsLock()}`);
      expect(await versionOf(t.binary)).toBe(release.next);
      expect(existsSync(otherLock)).toBe(false);
    } finally {
      lock.release();
    }
  });

  test("--rollback puts the previous binary back (and a second one undoes it)", async () => {
    expect((await upgrade(["--rollback"])).exitCode).toBe(0);
    expect(await versionOf(t.binary)).toBe(release.version);
    expect((await upgrade(["--rollback"])).exitCode).toBe(0);
    expect(await versionOf(t.binary)).toBe(release.next);
  });

  test("--rollback works when the installed binary rejects the config (the reason to roll back)", async () => {
    const text = readFileSync(config, "utf8");
    writeFileSync(config, `${text}\n[backup.renamed_in_a_future_release]\n`);
    try {
      const r = await upgrade(["--rollback"]);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toContain("this binary rejects the config");
      expect(await versionOf(t.binary)).toBe(release.version);
    } finally {
      writeFileSync(config, text);
    }
  });
});

function flipByte(file: string): void {
  const bytes = readFileSync(file);
  const i = Math.floor(bytes.length / 2);
  bytes[i] = (bytes[i] ?? 0) ^ 0xff;
  writeFileSync(file, bytes);
}

function rewriteSum(sums: string, name: string): void {
  const text = readFileSync(sums, "utf8").replace(
    new RegExp(`^[0-9a-f]{64}(  ${name})$`, "m"),
    `${"0".repeat(64)}$1`,
  );
  writeFileSync(sums, text);
}

/** A copy of a release directory (hard links, then the spoiled file rewritten), served beside it. */
function spoiledCopy(name: string, spoil: (dir: string) => void, from = release.dirName): string {
  const to = `${from}-${name}`;
  const target = join(root, to);
  mkdirSync(target, { recursive: true });
  for (const f of readdirSync(join(root, from))) copyFileSync(join(root, from, f), join(target, f));
  spoil(target);
  // The installer downloads the release its own version names: point it at this directory instead.
  const installer = join(target, "install.sh");
  if (existsSync(installer)) {
    const text = readFileSync(installer, "utf8").replace(
      /^INSTALLER_VERSION=.*$/m,
      `INSTALLER_VERSION=${to.slice(1)}`,
    );
    writeFileSync(installer, text);
  }
  return to;
}
