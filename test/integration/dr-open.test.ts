import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packBundle, unpackBundle } from "../../src/core/dr/archive.ts";
import { decryptBundle, encryptBundle } from "../../src/core/dr/crypto.ts";
import { BUNDLE_DIR } from "../../src/core/dr/model.ts";
import { runCli } from "../helpers/cli.ts";
import { exportBundle } from "../helpers/dr.ts";
import { describeReal, tempDir, writeTestConfig } from "../helpers/env.ts";

/**
 * `dr open` as on an air-gapped host: a real bundle from `dr export` (filesystem repository), opened
 * through the CLI with nothing but the passphrase file. Modes and bytes are checked against the
 * export's inputs; a wrong passphrase, a tampered bundle and a non-empty target write nothing.
 */
describeReal("dr open through the CLI", ["kopia"], () => {
  const dir = tempDir("kdt-dr-open-");
  const kd = join(dir.path, "kd");
  const caFile = join(kd, "ca.pem");
  const config = writeTestConfig(kd, `\n[alerts]\nca_file = "${caFile}"\n`);
  const passFile = join(dir.path, "passphrase");
  const passphrase = `pp-${crypto.randomUUID()}`;
  const bundle = join(dir.path, "host.age");
  const ca = `-----BEGIN CERTIFICATE-----\n${crypto.randomUUID()}\n-----END CERTIFICATE-----\n`;
  const open = (to: string, pass = passFile, file = bundle) =>
    runCli(["dr", "open", file, "--to", to, "--passphrase-file", pass, "--json"]);
  const mode = (p: string) => statSync(p).mode & 0o777;

  beforeAll(async () => {
    writeFileSync(caFile, ca, { mode: 0o600 });
    writeFileSync(passFile, `${passphrase}\n`, { mode: 0o600 });
    expect((await runCli(["repo", "init", "--config", config])).exitCode).toBe(0);
    const exported = await exportBundle(config, bundle, passFile);
    expect(exported.exitCode).toBe(0);
  }, 120_000);

  afterAll(() => dir.remove());

  test("writes the bundle's files 0600 (recover.sh 0700) into a new 0700 directory", async () => {
    const to = join(dir.path, "opened");
    const r = await open(to);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ dir: to, host: "kd-test-host", next: join(to, "recover.sh") });
    expect(r.stdout + r.stderr).not.toContain(passphrase);
    expect(mode(to)).toBe(0o700);
    expect(mode(join(to, "recover.sh"))).toBe(0o700);
    for (const f of out.files.filter((f: string) => f !== "recover.sh"))
      expect(mode(join(to, f))).toBe(0o600);
    expect(readFileSync(join(to, "config.toml"), "utf8")).toBe(readFileSync(config, "utf8"));
    const password = readFileSync(join(kd, "repository.password"), "utf8").trim();
    expect(readFileSync(join(to, "secrets/repository.password"), "utf8")).toBe(`${password}\n`);
    const manifest = JSON.parse(readFileSync(join(to, "manifest.json"), "utf8"));
    const carried = manifest.files.find((f: { path: string }) => f.path === caFile);
    expect(readFileSync(join(to, carried.stored), "utf8")).toBe(ca);
    expect(readdirSync(dir.path).filter((n) => n.includes(".tmp-"))).toEqual([]);
  }, 60_000);

  test("text output names the directory and the next command", async () => {
    const to = join(dir.path, "opened-text");
    const r = await runCli(["dr", "open", bundle, "--to", to, "--passphrase-file", passFile]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`next (as root):  ${to}/recover.sh`);
  }, 60_000);

  test("a wrong passphrase exits 1, says so, and writes nothing", async () => {
    const wrong = join(dir.path, "wrong");
    writeFileSync(wrong, "not-the-passphrase-at-all\n", { mode: 0o600 });
    const to = join(dir.path, "wrong-out");
    const r = await open(to, wrong);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("wrong passphrase or damaged file");
    expect(existsSync(to)).toBe(false);
  }, 60_000);

  test("a tampered bundle (checksum mismatch) exits 1 and writes nothing", async () => {
    const files = unpackBundle(await decryptBundle(new Uint8Array(readFileSync(bundle)), passphrase));
    const entries = [...files].map(([name, data]) => ({
      name: `${BUNDLE_DIR}/${name}`,
      data: name === "config.toml" ? new TextEncoder().encode("# changed\n") : data,
      mode: 0o600,
    }));
    const tampered = join(dir.path, "tampered.age");
    writeFileSync(tampered, await encryptBundle(packBundle(entries, new Date()), passphrase, 10));
    const to = join(dir.path, "tampered-out");
    const r = await open(to, passFile, tampered);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("config.toml differs");
    expect(existsSync(to)).toBe(false);
  }, 60_000);

  test("a non-empty --to is refused (exit 2) and left as it was", async () => {
    const to = join(dir.path, "busy");
    mkdirSync(to);
    writeFileSync(join(to, "keep"), "mine");
    const r = await open(to);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("is not empty");
    expect(readdirSync(to)).toEqual(["keep"]);
  }, 60_000);

  test("a passphrase file readable by others, or none at all off a terminal, is a usage error", async () => {
    const loose = join(dir.path, "loose");
    writeFileSync(loose, `${passphrase}\n`, { mode: 0o644 });
    const r = await open(join(dir.path, "loose-out"), loose);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("chmod 600");
    const none = await runCli(["dr", "open", bundle, "--to", join(dir.path, "none-out")]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain("--passphrase-file");
    expect(existsSync(join(dir.path, "loose-out")) || existsSync(join(dir.path, "none-out"))).toBe(false);
  }, 60_000);
});
