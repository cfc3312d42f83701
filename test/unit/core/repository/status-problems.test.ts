import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../../../src/config/load.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { repositoryStatus } from "../../../../src/core/repository/status.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";

const t = tempDir("kdt-status-problems-");
afterAll(() => t.remove());

/** A host connected to sftp://u@h:22/r, as kopia saved it; the config is the same location. */
function sftpHost(runner: FakeRunner) {
  const d = t.path;
  const kopiaConfigFile = join(d, "kopia.config");
  writeFileSync(
    kopiaConfigFile,
    JSON.stringify({
      storage: { type: "sftp", config: { host: "h", port: 22, username: "u", path: "/r" } },
      hostname: "h",
      username: "kopi-docka",
    }),
    { mode: 0o600 },
  );
  return {
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
      `[repository]\nbackend = "sftp"\nhost = "h"\nuser = "u"\npath = "/r"\nkey_file = "${join(d, "key")}"\n` +
        `known_hosts_file = "${join(d, "known_hosts")}"\npassword_file = "${join(d, "pw")}"\n`,
      "x",
    ),
    paths: { stateDir: d, kopiaConfigFile, lockFile: join(d, "kopi-docka.lock") },
    log: silentLogger(),
  };
}

test("repo status after the server's host key changed: says so, as backup and doctor do (not 'cannot be reached')", async () => {
  const runner = new FakeRunner([
    {
      argv: (a) => a[0] === "kopia" && a.includes("status"),
      exitCode: 1,
      // kopia 0.23.1's own SSH client, its saved connection pinning another key
      stderr:
        "open repository: unable to open repository: cannot open storage: unable to open SFTP storage: unable to create sftp client: unable to dial [h:22]: ssh: handshake failed: knownhosts: key mismatch",
    },
  ]);
  const report = await repositoryStatus(sftpHost(runner));
  expect(report.connected).toBe(false);
  expect(report.problem).toBe(
    "the SFTP server at sftp://u@h:22/r presented a host key that is not the pinned one",
  );
});
