import { afterEach, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../../../src/config/load.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { openRepository } from "../../../../src/core/repository/open.ts";
import { repositoryStatus } from "../../../../src/core/repository/status.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";

// A repository server whose certificate changed: on purpose (a new fingerprint in the config), or
// under a saved connection (possibly someone in between). Neither is "the server down", and the same
// URL twice ("was X, now X") says nothing.

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const OLD = "a2d0".padEnd(64, "0");
const NEW = "0787".padEnd(64, "1");

/** kopia 0.23.1's words when the server presents `had` and `pinned` was asked for. */
const mismatch = (pinned: string, had: string) =>
  `failed to open repository: unable to establish session for purpose=: error establishing session: Session(): rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: can't find certificate matching SHA256 fingerprint \\"${pinned}\\" (server had [${had}])"`;

/** A host connected to a server (something listens on its port) pinning `saved`; the config pins `configured`. */
function serverHost(saved: string, configured: string) {
  const t = tempDir("kdt-server-cert-");
  cleanups.push(t.remove);
  const d = t.path;
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  cleanups.push(() => l.stop(true));
  const url = `https://127.0.0.1:${l.port}`;
  writeFileSync(join(d, "pw"), "pw\n", { mode: 0o600 });
  const kopiaConfigFile = join(d, "kopia.config");
  writeFileSync(
    kopiaConfigFile,
    JSON.stringify({
      apiServer: { url, serverCertFingerprint: saved },
      hostname: "h",
      username: "kopi-docka",
    }),
    { mode: 0o600 },
  );
  writeFileSync(
    join(d, "repository.json"),
    JSON.stringify({ backend: "server", location: url, connectedAt: "2025-01-01T00:00:00Z" }),
  );
  const warnings: string[] = [];
  const log = silentLogger();
  log.warn = ((m: unknown) => warnings.push(String(m))) as unknown as typeof log.warn;
  const deps = (runner: FakeRunner) => ({
    kopia: createKopia(runner, {
      configFile: kopiaConfigFile,
      cacheDir: join(d, "cache"),
      logDir: join(d, "logs"),
      password: () => "pw",
      hostname: "h",
      username: "kopi-docka",
    }),
    runner,
    config: parseConfigText(
      `[repository]\nbackend = "server"\nurl = "${url}"\nserver_cert_fingerprint = "${configured}"\n` +
        `password_file = "${join(d, "pw")}"\n`,
      "x",
    ),
    paths: { stateDir: d, kopiaConfigFile, lockFile: join(d, "kopi-docka.lock") },
    log,
  });
  return { url, kopiaConfigFile, warnings, deps };
}

const kopia = (sub: string) => (a: readonly string[]) => a[0] === "kopia" && a.includes(sub);

test("a new fingerprint in the config the server does not have: exit 10 naming the server's, 'the fingerprint changed'", async () => {
  const h = serverHost(OLD, NEW);
  const saved = readFileSync(h.kopiaConfigFile, "utf8");
  const runner = new FakeRunner([{ argv: kopia("connect"), exitCode: 1, stderr: mismatch(NEW, OLD) }]);
  const e = await openRepository(h.deps(runner), "use").catch((x) => x);
  expect(exitCodeFor(e)).toBe(10);
  expect(e.message).toBe(
    `the kopia server at ${h.url} presented a TLS certificate that is not the pinned one (server has SHA256 ${OLD})`,
  );
  expect(e.hint).toContain("update repository.server_cert_fingerprint; otherwise do not connect");
  expect(h.warnings.join("\n")).toContain(`the server certificate fingerprint of ${h.url} changed`);
  expect(h.warnings.join("\n")).not.toContain("was ");
  expect(readFileSync(h.kopiaConfigFile, "utf8")).toBe(saved);
});

test("the server's certificate changed under a saved connection: exit 10, not 'is the server up?'", async () => {
  const h = serverHost(OLD, OLD);
  const runner = new FakeRunner([
    { argv: kopia("status"), exitCode: 1, stderr: `open repository: ${mismatch(OLD, NEW)}` },
  ]);
  const e = await openRepository(h.deps(runner), "use").catch((x) => x);
  expect(exitCodeFor(e)).toBe(10);
  expect(e.message).toContain(`not the pinned one (server has SHA256 ${NEW})`);
  expect(e.message).not.toContain("is the server up");
});

test("repo status: connected to the same URL with another fingerprint, said so (not 'another location')", async () => {
  const h = serverHost(OLD, NEW);
  const report = await repositoryStatus(h.deps(new FakeRunner()));
  expect(report.problem).toBe(
    `connected to ${h.url} with another server certificate fingerprint than the configured one; the next backup reconnects`,
  );
});
