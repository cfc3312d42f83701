import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { exitCodeFor } from "../../../../src/cli.ts";
import { parseConfigText } from "../../../../src/config/load.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { acquireLock } from "../../../../src/core/lock/acquire.ts";
import { currentBootId, currentPidNamespace, processStartTime } from "../../../../src/core/lock/owner.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { openRepository } from "../../../../src/core/repository/open.ts";
import { readMarker } from "../../../../src/core/repository/saved.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Something listening where the S3 endpoint is: the connection test before kopia passes. */
function listening(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  cleanups.push(() => l.stop(true));
  return l.port;
}

/**
 * A host whose kopia config holds a connection to an S3 bucket with the credentials `saved` (kopia
 * keeps them in its own config), and whose config's secret files hold `files`.
 */
function s3Host(o: { saved: { id: string; secret: string }; files: { id: string; secret: string } }) {
  const t = tempDir("kdt-reconnect-");
  cleanups.push(t.remove);
  const d = t.path;
  const port = listening();
  writeFileSync(join(d, "pw"), "pw\n", { mode: 0o600 });
  writeFileSync(join(d, "id"), `${o.files.id}\n`, { mode: 0o600 });
  writeFileSync(join(d, "secret"), `${o.files.secret}\n`, { mode: 0o600 });
  const endpoint = `127.0.0.1:${port}`;
  const kopiaConfigFile = join(d, "kopia.config");
  const savedText = kopiaConfig("b", endpoint, o.saved, "cache");
  writeFileSync(kopiaConfigFile, savedText, { mode: 0o600 });
  mkdirSync(join(d, "cache"));
  writeFileSync(join(d, "cache", "kopia.repository"), "this repository's format blob");
  const toml = (bucket: string, extra = "") =>
    `[repository]\nbackend = "s3"\nbucket = "${bucket}"\nendpoint = "${endpoint}"\ntls = false\n` +
    `access_key_id_file = "${join(d, "id")}"\nsecret_access_key_file = "${join(d, "secret")}"\n` +
    `password_file = "${join(d, "pw")}"\n${extra}`;
  const deps = (runner: FakeRunner, bucket = "b", extra = "") => ({
    kopia: createKopia(runner, {
      configFile: kopiaConfigFile,
      cacheDir: join(d, "cache"),
      logDir: join(d, "logs"),
      password: () => "pw",
      hostname: "h",
      username: "kopi-docka",
    }),
    runner,
    config: parseConfigText(toml(bucket, extra), "x"),
    paths: { stateDir: d, kopiaConfigFile, lockFile: join(d, "kopi-docka.lock") },
    log: silentLogger(),
  });
  return { d, endpoint, kopiaConfigFile, savedText, deps };
}

function kopiaConfig(bucket: string, endpoint: string, keys: { id: string; secret: string }, cache: string) {
  return JSON.stringify({
    storage: {
      type: "s3",
      config: { bucket, endpoint, doNotUseTLS: true, accessKeyID: keys.id, secretAccessKey: keys.secret },
    },
    caching: { cacheDirectory: cache },
    hostname: "h",
    username: "kopi-docka",
  });
}

const isKopia =
  (...words: string[]) =>
  (argv: readonly string[]) =>
    argv[0] === "kopia" && words.every((w, i) => argv[3 + i] === w);
const status: Expectation = { argv: isKopia("repository", "status"), stdout: "{}" };

/** kopia's connect into the staged config `<config>.next`, writing it as kopia does (with `keys`). */
function stagedConnect(
  h: { kopiaConfigFile: string; endpoint: string },
  keys: { id: string; secret: string },
  o: { bucket?: string; cache?: string; fail?: string } = {},
): Expectation {
  return {
    argv: (a) => isKopia("repository", "connect")(a) && a[2] === `${h.kopiaConfigFile}.next`,
    ...(o.fail ? { exitCode: 1, stderr: o.fail } : {}),
    check: (opts) => {
      expect(opts.env?.AWS_ACCESS_KEY_ID).toBe(keys.id);
      expect(opts.env?.AWS_SECRET_ACCESS_KEY).toBe(keys.secret);
      if (!o.fail)
        writeFileSync(
          `${h.kopiaConfigFile}.next`,
          kopiaConfig(o.bucket ?? "b", h.endpoint, keys, o.cache ?? "cache"),
        );
    },
  };
}

const OLD = { id: "AKIDOLD", secret: "old-secret-value" };
const NEW = { id: "AKIDNEW", secret: "new-secret-value" };

describe("openRepository: rotated credentials are used", () => {
  test("kopia still holds the old key: the next run reconnects with the one in the file, beside the old connection", async () => {
    const h = s3Host({ saved: OLD, files: NEW });
    const runner = new FakeRunner([stagedConnect(h, NEW)]);
    expect(await openRepository(h.deps(runner), "use")).toMatchObject({ created: false });
    expect(runner.remaining).toBe(0);
    expect(runner.calls.some((c) => c.argv.includes("disconnect"))).toBe(false);
    expect(JSON.parse(readFileSync(h.kopiaConfigFile, "utf8")).storage.config.accessKeyID).toBe(NEW.id);
    expect(existsSync(`${h.kopiaConfigFile}.next`)).toBe(false);
    // Even at the same location the attempt never reads or risks the live cache (kopia trusts a
    // cached format blob: a repository created anew there would take the old one's keys): a fresh
    // cache took its place, and the config points at it.
    expect(runner.calls[0]?.argv).toContain(join(h.d, "cache.next"));
    expect(existsSync(join(h.d, "cache", "kopia.repository"))).toBe(false);
    expect(JSON.parse(readFileSync(h.kopiaConfigFile, "utf8")).caching.cacheDirectory).toBe("cache");
    expect(existsSync(join(h.d, "cache.next"))).toBe(false);
    // The marker keeps a salted digest, never a secret.
    const marker = readFileSync(join(h.d, "repository.json"), "utf8");
    expect(readMarker(h.d)?.connectionDigest).toMatch(/^hmac-sha256:[0-9a-f]{32}:[0-9a-f]{64}$/);
    for (const s of [NEW.id, NEW.secret, OLD.secret]) expect(marker).not.toContain(s);

    // The run after: nothing to reconnect, one status.
    const again = new FakeRunner([status]);
    await openRepository(h.deps(again), "use");
    expect(again.calls).toHaveLength(1);
  });

  test("a wrong new key: exit 12 naming the credentials, the working connection unchanged", async () => {
    const h = s3Host({ saved: OLD, files: NEW });
    const refused = "The request signature we calculated does not match the signature you provided.";
    const runner = new FakeRunner([stagedConnect(h, NEW, { fail: refused })]);
    const e = await openRepository(h.deps(runner), "use").catch((x) => x);
    expect(exitCodeFor(e)).toBe(12);
    expect(e.message).toContain("refused the credentials");
    expect(readFileSync(h.kopiaConfigFile, "utf8")).toBe(h.savedText);
    expect(existsSync(`${h.kopiaConfigFile}.next`)).toBe(false);
    expect(existsSync(join(h.d, "repository.json"))).toBe(false);
  });

  test("a key id the storage does not know (deleted on rotation) is a credentials error too, exit 12", async () => {
    const h = s3Host({ saved: OLD, files: NEW });
    const unknown = "The AWS Access Key Id you provided does not exist in our records.";
    const runner = new FakeRunner([stagedConnect(h, NEW, { fail: unknown })]);
    expect(exitCodeFor(await openRepository(h.deps(runner), "use").catch((x) => x))).toBe(12);
    // kopia removes the cache of a connect it rejects: the attempt had its own, the live one stays.
    expect(runner.calls[0]?.argv).toContain(join(h.d, "cache.next"));
    expect(readFileSync(join(h.d, "cache", "kopia.repository"), "utf8")).toBe(
      "this repository's format blob",
    );
    expect(readFileSync(h.kopiaConfigFile, "utf8")).toBe(h.savedText);
  });

  test("a key revoked with nothing changed here: exit 12 naming the credentials, not an unmounted disk", async () => {
    const h = s3Host({ saved: NEW, files: NEW });
    const revoked =
      'open repository: unable to open repository: cannot open storage: error retrieving storage config from bucket "b": The AWS Access Key Id you provided does not exist in our records.';
    const runner = new FakeRunner([{ ...status, exitCode: 1, stderr: revoked }]);
    const e = await openRepository(h.deps(runner), "use").catch((x) => x);
    expect(exitCodeFor(e)).toBe(12);
    expect(e.message).toContain("refused the credentials");
    expect(readFileSync(h.kopiaConfigFile, "utf8")).toBe(h.savedText);
  });

  test("a server that takes the connection and never answers: exit 10, how long it was waited for, not kopia's command line", async () => {
    const h = s3Host({ saved: NEW, files: NEW });
    // The backup's proof read (`policy export`), and the plain `repository status` of the other commands.
    const runner = new FakeRunner([
      { argv: isKopia("policy", "export"), timedOut: true },
      { ...status, timedOut: true },
    ]);
    const d = h.deps(runner);
    for (const [proof, seconds] of [
      [() => d.kopia.policyDefinedAll(), 300],
      [undefined, 120],
    ] as const) {
      const e = await openRepository(d, "use", proof).catch((x) => x);
      expect(exitCodeFor(e)).toBe(10);
      expect(e.message).toEndWith(`did not answer within ${seconds} s: is the server hung?`);
      expect(e.message).not.toContain("kopia");
      expect(e.hint).toContain("nothing was stopped or changed");
    }
    expect(runner.remaining).toBe(0);
    expect(readFileSync(h.kopiaConfigFile, "utf8")).toBe(h.savedText);
  });

  test("a marker from before digests, kopia holding the configured keys: trusted, and the digest taken", async () => {
    const h = s3Host({ saved: NEW, files: NEW });
    writeFileSync(
      join(h.d, "repository.json"),
      JSON.stringify({ backend: "s3", location: "x", connectedAt: "2025-01-01" }),
    );
    const runner = new FakeRunner([status]);
    await openRepository(h.deps(runner), "use");
    expect(runner.calls).toHaveLength(1);
    expect(readMarker(h.d)?.connectionDigest).toStartWith("hmac-sha256:");
  });

  test("another setting of the connection (the region) changed since the last connect: reconnect", async () => {
    const h = s3Host({ saved: NEW, files: NEW });
    await openRepository(h.deps(new FakeRunner([status])), "use");
    const runner = new FakeRunner([
      {
        ...stagedConnect(h, NEW),
        argv: (a) => isKopia("repository", "connect")(a) && a.includes("eu-west-3"),
      },
    ]);
    await openRepository(h.deps(runner, "b", 'region = "eu-west-3"\n'), "use");
    expect(runner.remaining).toBe(0);
  });
});

describe("openRepository: what a run by hand lacks, and since when", () => {
  // systemd's EnvironmentFile sets a `_env` secret for the timer's runs only; a restore from a shell
  // lacks it, and must still open the repository this host is connected to.
  test("an _env secret unset here, kopia connected at that location: the saved connection, a warning, nothing rewritten", async () => {
    const h = s3Host({ saved: NEW, files: NEW });
    const warnings: string[] = [];
    const runner = new FakeRunner([status]);
    const base = h.deps(runner);
    const toml =
      `[repository]\nbackend = "s3"\nbucket = "b"\nendpoint = "${h.endpoint}"\ntls = false\n` +
      `access_key_id_env = "KDT_UNSET_ID"\nsecret_access_key_env = "KDT_UNSET_SECRET"\npassword_file = "${join(h.d, "pw")}"\n`;
    const log = silentLogger();
    log.warn = ((m: unknown) => warnings.push(String(m))) as unknown as typeof log.warn;
    const d = { ...base, config: parseConfigText(toml, "x"), log };
    expect(await openRepository(d, "use")).toMatchObject({ created: false });
    expect(runner.remaining).toBe(0);
    expect(warnings.join("\n")).toContain(
      "KDT_UNSET_ID, which is not set or empty: using the credentials kopia saved",
    );
    expect(readFileSync(h.kopiaConfigFile, "utf8")).toBe(h.savedText);
    expect(existsSync(join(h.d, "repository.json"))).toBe(false);

    // Not connected there: nothing to fall back on, exit 2 naming the variable.
    rmSync(h.kopiaConfigFile);
    const e = await openRepository({ ...d, runner: new FakeRunner([]) }, "use").catch((x) => x);
    expect(exitCodeFor(e)).toBe(2);
    expect(e.message).toContain("KDT_UNSET_ID");
  });

  // doctor counts "set up N hours ago" from it: a run that only opens the repository must not move it.
  test("the marker keeps since when this host uses the location; another location starts anew", async () => {
    const h = s3Host({ saved: NEW, files: NEW });
    const location = (await openRepository(h.deps(new FakeRunner([status])), "use")).location;
    writeFileSync(
      join(h.d, "repository.json"),
      JSON.stringify({ backend: "s3", location, connectedAt: "2025-01-01T00:00:00.000Z" }),
    );
    await openRepository(h.deps(new FakeRunner([status])), "use");
    expect(readMarker(h.d)?.connectedAt).toBe("2025-01-01T00:00:00.000Z");
    writeFileSync(
      join(h.d, "repository.json"),
      JSON.stringify({ backend: "s3", location: "elsewhere", connectedAt: "2025-01-01T00:00:00.000Z" }),
    );
    await openRepository(h.deps(new FakeRunner([status])), "use");
    expect(readMarker(h.d)?.connectedAt).not.toBe("2025-01-01T00:00:00.000Z");
  });
});

describe("openRepository: a wrong location changes nothing", () => {
  test("a mistyped filesystem path: exit 10 asking for the disk, no kopia call, still connected to the good one", async () => {
    const t = tempDir("kdt-reconnect-");
    cleanups.push(t.remove);
    const d = t.path;
    mkdirSync(join(d, "repo"));
    writeFileSync(join(d, "repo", "kopia.repository.f"), "{}");
    writeFileSync(join(d, "pw"), "pw\n", { mode: 0o600 });
    const kopiaConfigFile = join(d, "kopia.config");
    const saved = JSON.stringify({
      storage: { type: "filesystem", config: { path: join(d, "repo") } },
      hostname: "h",
      username: "kopi-docka",
    });
    writeFileSync(kopiaConfigFile, saved);
    const runner = new FakeRunner([]);
    const config = parseConfigText(
      `[repository]\npath = "${join(d, "rpeo")}"\npassword_file = "${join(d, "pw")}"\n`,
      "x",
    );
    const kopia = createKopia(runner, {
      ...{ configFile: kopiaConfigFile, cacheDir: join(d, "cache"), logDir: join(d, "logs") },
      ...{ password: () => "pw", hostname: "h", username: "kopi-docka" },
    });
    const paths = { stateDir: d, kopiaConfigFile, lockFile: join(d, "kopi-docka.lock") };
    const e = await openRepository({ kopia, runner, config, paths, log: silentLogger() }, "connect").catch(
      (x) => x,
    );
    expect(exitCodeFor(e)).toBe(10);
    expect(e.message).toContain(`there is no kopia repository at ${join(d, "rpeo")}: is the disk mounted?`);
    expect(runner.calls).toHaveLength(0);
    expect(readFileSync(kopiaConfigFile, "utf8")).toBe(saved);
  });

  test("a bucket without a repository: exit 10, the old config and cache as they were, nothing left behind", async () => {
    const h = s3Host({ saved: NEW, files: NEW });
    const none = new FakeRunner([
      {
        ...stagedConnect(h, NEW, {
          bucket: "typo",
          fail: "repository not initialized in the provided storage",
        }),
        argv: isKopia("repository", "connect"),
      },
    ]);
    const e = await openRepository(h.deps(none, "typo"), "connect").catch((x) => x);
    expect(exitCodeFor(e)).toBe(10);
    expect(e.message).toContain("there is no kopia repository at s3://typo/");
    expect(readFileSync(h.kopiaConfigFile, "utf8")).toBe(h.savedText);
    expect(readFileSync(join(h.d, "cache", "kopia.repository"), "utf8")).toBe(
      "this repository's format blob",
    );
    expect(existsSync(`${h.kopiaConfigFile}.next`)).toBe(false);
    expect(existsSync(join(h.d, "cache.next"))).toBe(false);
    // Its staged connect used a cache of its own, never the old repository's.
    expect(none.calls[0]?.argv).toContain(join(h.d, "cache.next"));
  });

  test("another bucket that opens: it takes the old one's place with a fresh cache", async () => {
    const h = s3Host({ saved: NEW, files: NEW });
    const runner = new FakeRunner([stagedConnect(h, NEW, { bucket: "other", cache: "cache.next" })]);
    writeFileSync(
      join(h.d, "repository.json"),
      JSON.stringify({ backend: "s3", location: "s3://b/", connectedAt: "x" }),
    );
    const opened = await openRepository(h.deps(runner, "other"), "connect");
    expect(opened.replaced).toBe("s3://b/");
    const config = JSON.parse(readFileSync(h.kopiaConfigFile, "utf8"));
    expect(config.storage.config.bucket).toBe("other");
    expect(config.caching.cacheDirectory).toBe("cache");
    expect(existsSync(join(h.d, "cache", "kopia.repository"))).toBe(false);
    expect(readMarker(h.d)?.location).toContain("s3://other/");
  });

  test("another run holds the host lock: exit 11 before any kopia call, nothing changed", async () => {
    const h = s3Host({ saved: OLD, files: NEW });
    const other = Bun.spawn(["sleep", "30"]);
    cleanups.push(() => other.kill());
    writeFileSync(
      join(h.d, "kopi-docka.lock"),
      JSON.stringify({
        pid: other.pid,
        runId: "backup-1",
        command: "backup",
        startedAt: new Date().toISOString(),
        hostname: hostname(),
        processStartTime: processStartTime(other.pid) ?? null,
        bootId: currentBootId(),
        pidNamespace: currentPidNamespace(),
      }),
    );
    const runner = new FakeRunner([]);
    const e = await openRepository(h.deps(runner), "use").catch((x) => x);
    expect(exitCodeFor(e)).toBe(11);
    expect(e.message).toContain("nothing was changed");
    expect(runner.calls).toHaveLength(0);
    expect(readFileSync(h.kopiaConfigFile, "utf8")).toBe(h.savedText);
  });

  test("this process holds the lock (a backup): the reconnect goes ahead under it, and leaves it held", async () => {
    const h = s3Host({ saved: OLD, files: NEW });
    const held = await acquireLock(join(h.d, "kopi-docka.lock"), { runId: "backup-2", command: "backup" });
    try {
      const runner = new FakeRunner([stagedConnect(h, NEW)]);
      await openRepository(h.deps(runner), "use");
      expect(runner.remaining).toBe(0);
      expect(existsSync(join(h.d, "kopi-docka.lock"))).toBe(true);
    } finally {
      held.release();
    }
  });
});
