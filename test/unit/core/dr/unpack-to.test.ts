import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTar } from "nanotar";
import { packBundle } from "../../../../src/core/dr/archive.ts";
import { bundleEntries } from "../../../../src/core/dr/contents.ts";
import { encryptBundle } from "../../../../src/core/dr/crypto.ts";
import { readPrivatePassphrase } from "../../../../src/core/dr/export.ts";
import type { BundleEntry } from "../../../../src/core/dr/model.ts";
import { openingInstructions } from "../../../../src/core/dr/readme.ts";
import { planBundleFiles, unpackBundleTo } from "../../../../src/core/dr/unpack-to.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { tempDir } from "../../../helpers/env.ts";
import { bundleInput } from "./fixtures.ts";

const input = bundleInput();
const PASS = "unit-test-passphrase";
/** scrypt work factor low enough for a unit test. */
const FAST = 10;

const seal = (entries: BundleEntry[]) => encryptBundle(packBundle(entries, input.createdAt), PASS, FAST);

let dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs) d.remove();
  dirs = [];
});
function scratch() {
  const d = tempDir("kd-dr-open-");
  dirs.push(d);
  return d.path;
}
async function bundleFile(entries = bundleEntries(input)) {
  const file = join(scratch(), "b.age");
  writeFileSync(file, await seal(entries));
  return file;
}
const mode = (p: string) => statSync(p).mode & 0o777;

describe("planBundleFiles", () => {
  test("recover.sh 0700, everything else 0600, paths under the directory", () => {
    const plan = planBundleFiles("/x/dr", ["README.txt", "recover.sh", "secrets/files/01-a"]);
    expect(plan).toEqual([
      { name: "README.txt", path: "/x/dr/README.txt", mode: 0o600 },
      { name: "recover.sh", path: "/x/dr/recover.sh", mode: 0o700 },
      { name: "secrets/files/01-a", path: "/x/dr/secrets/files/01-a", mode: 0o600 },
    ]);
  });

  test("a name resolving outside the directory is refused", () => {
    for (const name of ["../evil", "a/../../evil", "/etc/passwd", ".", ""])
      expect(() => planBundleFiles("/x/dr", [name])).toThrow(/unexpected path/);
  });
});

describe("readPrivatePassphrase", () => {
  test("a file readable by others is refused, naming chmod", () => {
    const f = join(scratch(), "pass");
    writeFileSync(f, `${PASS}\n`, { mode: 0o644 });
    chmodSync(f, 0o644);
    expect(() => readPrivatePassphrase(f)).toThrow(/readable by other users \(mode 644\)/);
    chmodSync(f, 0o600);
    expect(readPrivatePassphrase(f)).toBe(PASS);
  });
});

test("the opening instructions name `kopi-docka dr open` first and age as the alternative", () => {
  const text = openingInstructions("/out/b.age", { host: "h", created: "c" });
  const open = text.indexOf("kopi-docka dr open b.age --to ./kopi-docka-dr");
  expect(open).toBeGreaterThan(0);
  expect(text.indexOf("age -d b.age | tar -xf -")).toBeGreaterThan(open);
  // Piped: the decrypted tar, every secret in it, is never a file on disk.
  expect(text).not.toContain("-o kopi-docka-dr.tar");
});

describe("unpackBundleTo", () => {
  test("writes every file into a new 0700 directory, files 0600, recover.sh 0700", async () => {
    const file = await bundleFile();
    const to = join(scratch(), "new", "dr");
    const r = await unpackBundleTo({ lifecycle: new Lifecycle() }, { file, passphrase: PASS, to });
    expect(r.dir).toBe(to);
    expect(r.next).toBe(join(to, "recover.sh"));
    expect(mode(to)).toBe(0o700);
    expect(mode(join(to, "recover.sh"))).toBe(0o700);
    expect(mode(join(to, "secrets/files/01-ca.pem"))).toBe(0o600);
    expect(readFileSync(join(to, "secrets/repository.password"), "utf8")).toBe("s3cret-password\n");
    expect(readdirSync(join(to, ".."))).toEqual(["dr"]);
  });

  test("an existing empty directory is used; a non-empty one is refused", async () => {
    const file = await bundleFile();
    const to = join(scratch(), "dr");
    mkdirSync(to);
    await unpackBundleTo({ lifecycle: new Lifecycle() }, { file, passphrase: PASS, to });
    expect(readdirSync(to)).toContain("recover.sh");
    await expect(
      unpackBundleTo({ lifecycle: new Lifecycle() }, { file, passphrase: PASS, to }),
    ).rejects.toThrow(/is not empty/);
  });

  test("a checksum mismatch writes nothing", async () => {
    const entries = bundleEntries(input).map((e) =>
      e.name.endsWith("/config.toml") ? { ...e, data: new TextEncoder().encode("tampered") } : e,
    );
    const file = await bundleFile(entries);
    const parent = scratch();
    const to = join(parent, "dr");
    await expect(
      unpackBundleTo({ lifecycle: new Lifecycle() }, { file, passphrase: PASS, to }),
    ).rejects.toThrow(/do not match SHA256SUMS: config.toml differs/);
    expect(readdirSync(parent)).toEqual([]);
  });

  test("a failure while writing removes the temp directory (the compensation)", async () => {
    // README.txt is a file, so README.txt/x cannot be written: the run fails half-way.
    const entries = [
      ...bundleEntries(input),
      { name: "kopi-docka-dr/README.txt/x", data: new Uint8Array(), mode: 0o600 },
    ];
    const file = await bundleFile(entries);
    const parent = scratch();
    const lifecycle = new Lifecycle();
    await expect(
      unpackBundleTo({ lifecycle }, { file, passphrase: PASS, to: join(parent, "dr") }),
    ).rejects.toThrow();
    expect(readdirSync(parent)).toEqual([]);
    expect(lifecycle.pending()).toEqual([]);
  });

  test("a temp directory a killed run left (decrypted secrets) is removed; a live run's is left alone", async () => {
    const file = await bundleFile();
    const parent = scratch();
    const dead = Bun.spawnSync(["true"]).pid;
    for (const pid of [dead, process.ppid]) mkdirSync(join(parent, `.dr.tmp-${pid}`), { mode: 0o700 });
    writeFileSync(join(parent, `.dr.tmp-${dead}`, "repository.password"), "secret\n");
    mkdirSync(join(parent, `.dr.tmp-${dead}x`)); // not ours: another name
    await unpackBundleTo({ lifecycle: new Lifecycle() }, { file, passphrase: PASS, to: join(parent, "dr") });
    expect(readdirSync(parent).sort()).toEqual([`.dr.tmp-${dead}x`, `.dr.tmp-${process.ppid}`, "dr"].sort());
  });

  test("a signal while decrypting writes nothing", async () => {
    const file = await bundleFile();
    const parent = scratch();
    const lifecycle = new Lifecycle();
    const pending = unpackBundleTo({ lifecycle }, { file, passphrase: PASS, to: join(parent, "dr") });
    await lifecycle.onSignal("SIGINT");
    await expect(pending).rejects.toThrow(/SIGINT|interrupted/i);
    expect(readdirSync(parent)).toEqual([]);
  });

  test("a tar entry outside the bundle directory is refused before anything is written", async () => {
    const parent = scratch();
    const file = join(parent, "evil.age");
    writeFileSync(file, await encryptBundle(createTar([{ name: "../evil", data: "x" }]), PASS, FAST));
    await expect(
      unpackBundleTo({ lifecycle: new Lifecycle() }, { file, passphrase: PASS, to: join(parent, "dr") }),
    ).rejects.toThrow(/unexpected path/);
    expect(readdirSync(parent)).toEqual(["evil.age"]);
  });
});
