// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { packBundle } from "../../../../src/core/dr/archive.ts";
import { drillEnv } from "../../../../src/core/dr/bundle-env.ts";
import { bundleEntries } from "../../../../src/core/dr/contents.ts";
import { encryptBundle } from "../../../../src/core/dr/crypto.ts";
import { runDrill } from "../../../../src/core/dr/drill.ts";
import { gatherSecrets } from "../../../../src/core/dr/gather.ts";
import { shellQuote } from "../../../../src/core/format.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { bundleInput } from "./fixtures.ts";

// A bundle handed over is untrusted: its secrets/env reaches the drill's children (kopia, the restore
// child, compose) only as the variables the manifest lists and the config's `*_env` keys name.

const lines = (env: Record<string, string>) =>
  Object.entries(env)
    .map(([k, v]) => `${k}=${shellQuote(v)}\n`)
    .join("");

describe("drillEnv", () => {
  test("listed and named: passed; listed for an alert URL only: left out", () => {
    const text = lines({ S3_SECRET: "s", HC_UUID: "u", KOPIA_WEBDAV_PASSWORD: "w" });
    const listed = ["S3_SECRET", "HC_UUID", "KOPIA_WEBDAV_PASSWORD"];
    expect(drillEnv(text, listed, ["S3_SECRET", "KOPIA_WEBDAV_PASSWORD"])).toEqual({
      S3_SECRET: "s",
      KOPIA_WEBDAV_PASSWORD: "w",
    });
  });

  test.each(["DOCKER_HOST", "HTTPS_PROXY", "https_proxy", "PATH", "LD_PRELOAD", "KOPIA_CACHE_DIRECTORY"])(
    "%s is refused by name, even when listed and named",
    (name) => {
      expect(() => drillEnv(lines({ [name]: "x" }), [name], [name])).toThrow(
        `secrets/env sets ${name}, which changes how programs run`,
      );
    },
  );

  test("a variable the manifest does not list is refused by name", () => {
    expect(() =>
      drillEnv(lines({ S3_SECRET: "s", EXTRA: "e" }), ["S3_SECRET"], ["S3_SECRET", "EXTRA"]),
    ).toThrow("secrets/env sets EXTRA, which its manifest.json does not list");
  });
});

test("dr export never carries a variable a drill would refuse: a warning names the key", () => {
  const config = {
    repository: { backend: "s3", secret_access_key_env: "LD_PRELOAD", session_token_env: "T" },
  };
  const g = gatherSecrets(config, "/p", { LD_PRELOAD: "/x.so", T: "t" });
  expect(g.env.map((e) => e.variable)).toEqual(["T"]);
  expect(g.warnings).toEqual([
    expect.stringMatching(/^repository\.secret_access_key_env: \$LD_PRELOAD is not carried/),
  ]);
});

describe("the drill's children", () => {
  const kopia = "/opt/kd-test/kopia";
  const input = bundleInput({
    configText: `[kopia]\nbinary = "${kopia}"\n\n[repository]\nbackend = "s3"\nbucket = "b"\naccess_key_id_env = "S3_ID"\nsecret_access_key_env = "S3_SECRET"\n\n[alerts]\nping_url = "https://hc-ping.com/\${HC_UUID}"\n`,
    carried: [],
    env: [
      { key: "repository.access_key_id_env", variable: "S3_ID", value: "id" },
      { key: "repository.secret_access_key_env", variable: "S3_SECRET", value: "secret" },
      { key: "alerts.ping_url", variable: "HC_UUID", value: "uuid" },
    ],
  });

  /** The bundle's files, secrets/env replaced and SHA256SUMS made to match (what a tamperer does). */
  async function bundleFile(dir: string, env?: string): Promise<string> {
    let entries = bundleEntries(input);
    if (env !== undefined) {
      const data = new TextEncoder().encode(env);
      entries = entries.map((e) => (e.name.endsWith("/secrets/env") ? { ...e, data } : e));
      const sum = createHash("sha256").update(data).digest("hex");
      entries = entries.map((e) => {
        if (!e.name.endsWith("/SHA256SUMS")) return e;
        const text = new TextDecoder().decode(e.data).replace(/^\S+(?= {2}secrets\/env$)/m, sum);
        return { ...e, data: new TextEncoder().encode(text) };
      });
    }
    const file = join(dir, "b.age");
    writeFileSync(file, await encryptBundle(packBundle(entries, input.createdAt), "pass-phrase-123", 10));
    return file;
  }
  const drill = (runner: FakeRunner, file: string) =>
    runDrill(
      { runner, docker: new FakeDocker(), log: silentLogger(), lifecycle: new Lifecycle() },
      { file, passphrase: "pass-phrase-123", selfArgv: ["kopi-docka"] },
    );

  test("kopia connects with the listed credentials the config names", async () => {
    const dir = tempDir("kd-drill-env-");
    const runner = new FakeRunner(
      [
        { argv: [kopia, "--version"], stdout: "0.23.1 build: x from: y\n" },
        {
          argv: (a) => a[0] === kopia && a.includes("connect"),
          exitCode: 1,
          stderr: "unreachable",
          check: (o) =>
            expect(o.env).toMatchObject({ AWS_ACCESS_KEY_ID: "id", AWS_SECRET_ACCESS_KEY: "secret" }),
        },
      ],
      [{ argv: (a) => a[0] === kopia && a.includes("disconnect") }],
    );
    const r = await drill(runner, await bundleFile(dir.path));
    expect(r.checks[1]).toMatchObject({
      step: "connect read-only",
      status: "fail",
      detail: expect.stringContaining("unreachable"),
    });
    expect(runner.remaining).toBe(0);
    dir.remove();
  });

  test.each([
    ["LD_PRELOAD", "is not listed", { S3_ID: "id", S3_SECRET: "secret", LD_PRELOAD: "/tmp/evil.so" }],
    ["DOCKER_HOST", "is not listed", { S3_ID: "id", DOCKER_HOST: "tcp://evil:2375" }],
  ])(
    "a secrets/env that sets %s (%s) fails the connect step naming it; no child runs",
    async (name, _why, env) => {
      const dir = tempDir("kd-drill-env-");
      const runner = new FakeRunner([], [{ argv: (a) => a[0] === kopia && a.includes("disconnect") }]);
      const r = await drill(runner, await bundleFile(dir.path, lines(env)));
      expect(r.checks[1]).toMatchObject({ step: "connect read-only", status: "fail" });
      expect(r.checks[1]?.detail).toContain(`secrets/env sets ${name}`);
      expect(runner.calls.filter((c) => !c.argv.includes("disconnect"))).toEqual([]);
      dir.remove();
    },
  );
});
