import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderServiceUnit } from "../../src/systemd/units.ts";
import { tempDir } from "../helpers/env.ts";

/**
 * install.sh re-run on an installed host, with stand-in binaries (shell scripts that answer what the
 * installer asks) and no release build: under dash, as `curl | sh` runs on Debian, into a scratch
 * prefix, unit dir and config. A binary that rejects a config the runs here read must replace nothing:
 * the timer would otherwise run it every night, and backup and check-freshness both fail at config
 * load, before any alert target is known.
 */
const installer = join(import.meta.dir, "..", "..", "install.sh");
const shell = Bun.which("dash") ?? "sh";
const dir = tempDir("kdt-install-sh-");
afterAll(() => dir.remove());

const prefix = join(dir.path, "bin");
const units = join(dir.path, "units");
const config = join(dir.path, "etc", "config.toml");
const binary = join(prefix, "kopi-docka");
const flags = ["--prefix", prefix, "--unit-dir", units, "--config", config, "--no-enable"];
mkdirSync(units, { recursive: true });
mkdirSync(join(dir.path, "etc"), { recursive: true });
writeFileSync(config, "# mine\n");

/**
 * A stand-in kopi-docka: prints `version`, rejects `config validate --config <rejects>` as the real one
 * would (file, line, key), and succeeds at everything else (`systemd install`).
 */
function standIn(version: string, rejects = ""): string {
  const media = join(dir.path, `media-${version}`);
  mkdirSync(media, { recursive: true });
  const file = join(media, "kopi-docka-linux-x64");
  const script = `#!/bin/sh
[ "$1" = --version ] && { echo ${version}; exit 0; }
if [ "$1 $2 $3" = "config validate --config" ] && [ "$4" = '${rejects}' ]; then
  echo "config error in $4:" >&2; echo "  line 3: backup.scope: unknown key (check the spelling)" >&2; exit 2
fi
exit 0
`;
  writeFileSync(file, script, { mode: 0o755 });
  const sum = new Bun.CryptoHasher("sha256").update(script).digest("hex");
  writeFileSync(join(media, "SHA256SUMS"), `${sum}  kopi-docka-linux-x64\n`);
  return file;
}

async function install(file: string, env: Record<string, string> = {}) {
  const p = Bun.spawn([shell, installer, "--binary", file, ...flags], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, KOPI_DOCKA_CONFIG: "", ...env },
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { exitCode, stdout, stderr };
}

describe(`install.sh (${shell}) over an installed binary`, () => {
  test("a new binary that rejects the --config file replaces nothing, and says what to fix", async () => {
    expect((await install(standIn("1.0.0"))).exitCode).toBe(0);
    const old = readFileSync(binary);
    const r = await install(standIn("2.0.0", config));
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`the new binary rejects the config ${config}`);
    expect(r.stderr).toContain("backup.scope: unknown key");
    expect(r.stderr).toContain(`Fix what it names in ${config}`);
    expect(r.stderr).not.toContain("--no-timer");
    expect(readFileSync(binary).equals(old)).toBe(true);
    expect(readdirSync(prefix)).toEqual(["kopi-docka"]); // no staged file, no .previous
  });

  test("so does one that rejects the config the installed service names (quoted, % doubled)", async () => {
    const other = join(dir.path, "srv dir", "kd 100%.toml");
    mkdirSync(join(dir.path, "srv dir"), { recursive: true });
    writeFileSync(other, "# the service's\n");
    const service = renderServiceUnit({ binary, configPath: other });
    expect(service).toContain('--config "'); // the quoted spelling is what is parsed back
    writeFileSync(join(units, "kopi-docka-backup.service"), service);
    const old = readFileSync(binary);
    const r = await install(standIn("2.0.1", other));
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`the new binary rejects the config ${other}`);
    expect(readFileSync(binary).equals(old)).toBe(true);
    expect(readdirSync(prefix)).toEqual(["kopi-docka"]);
  });

  test("one that accepts both replaces it: synced before the rename, the directory after", async () => {
    // A `sync` that notes what it was asked to sync and which binary was installed at that moment.
    const stubs = join(dir.path, "stubs");
    const log = join(dir.path, "sync.log");
    mkdirSync(stubs, { recursive: true });
    writeFileSync(join(stubs, "sync"), `#!/bin/sh\necho "$* | $('${binary}' --version)" >>'${log}'\n`, {
      mode: 0o755,
    });
    const old = readFileSync(binary);
    const r = await install(standIn("3.0.0"), { PATH: `${stubs}:${process.env.PATH}` });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(`installed 3.0.0 at ${binary}`);
    expect(readFileSync(`${binary}.previous`).equals(old)).toBe(true);
    expect(readdirSync(prefix).sort()).toEqual(["kopi-docka", "kopi-docka.previous"]);
    const synced = readFileSync(log, "utf8").trim().split("\n");
    expect(synced).toHaveLength(2);
    expect(synced[0]).toMatch(new RegExp(`^${binary}\\.new\\.\\d+ \\| 1\\.0\\.0$`));
    expect(synced[1]).toBe(`${prefix} | 3.0.0`);
  });
});
