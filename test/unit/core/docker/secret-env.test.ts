// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax
import { describe, expect, test } from "bun:test";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import { createDocker } from "../../../../src/core/docker/docker.ts";
import { childEnv, type RunOptions } from "../../../../src/core/process/runner.ts";
import { secretEnvNames } from "../../../../src/core/secret-env.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";

// Compose fills `${VAR}` in a restored (untrusted) compose file from its own environment: a secret
// kopi-docka holds must never be in what the docker CLI or compose runs with.

const config = ConfigSchema.parse({
  repository: { backend: "s3", bucket: "b", access_key_id_env: "S3_ID", secret_access_key_env: "S3_SECRET" },
  replicas: [{ name: "off", backend: "b2", bucket: "c", key_id_env: "B2_ID", application_key_env: "B2_APP" }],
  alerts: {
    ping_url: "https://hc-ping.com/${HC_UUID}",
    notify: [{ url: "ntfy://ntfy.example/t?token=${NTFY_TOKEN}" }, { url_file: "/etc/kd/gotify.url" }],
  },
});
const readText = (path: string) => {
  if (path === "/etc/kd/gotify.url") return "gotify://push.example/${GOTIFY_TOKEN}\n";
  throw new Error(`unexpected read of ${path}`);
};
const SECRETS = ["S3_ID", "S3_SECRET", "B2_ID", "B2_APP", "HC_UUID", "NTFY_TOKEN", "GOTIFY_TOKEN"];

/** What an admin's shell, recover.sh (`set -a; . ./secrets/env`) or the drill hands kopi-docka. */
const ours: Record<string, string> = {
  PATH: "/usr/bin:/bin",
  HOME: "/root",
  DOCKER_HOST: "unix:///run/docker.sock",
  DOCKER_CONFIG: "/root/.docker",
  COMPOSE_HTTP_TIMEOUT: "120",
  KOPIA_PASSWORD: "repo-pw",
  AWS_SECRET_ACCESS_KEY: "aws",
  AZURE_STORAGE_KEY: "az",
  B2_KEY: "b2",
  ...Object.fromEntries(SECRETS.map((n) => [n, `value-of-${n}`])),
};
const KEPT = ["PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG", "COMPOSE_HTTP_TIMEOUT"];
/** The environment a child of the real runner would get from these options. */
const seen = (o: RunOptions) => childEnv(o.env, ours);

test("secretEnvNames: kopi-docka's own, every *_env variable and every ${VAR} of the alert URLs", () => {
  const names = secretEnvNames(config, readText);
  for (const n of [...SECRETS, "KOPIA_PASSWORD", "KOPIA_NEW_PASSWORD", "AWS_SECRET_ACCESS_KEY", "B2_KEY"])
    expect(names).toContain(n);
  for (const n of KEPT) expect(names).not.toContain(n);
  // No config (a command that reads none): the own ones still.
  expect(secretEnvNames()).toContain("KOPIA_PASSWORD");
  expect(secretEnvNames()).not.toContain("S3_SECRET");
});

test("the runner's env: a variable given as undefined is unset, others are set over ours", () => {
  expect(childEnv({ HOME: undefined, X: "1" }, { HOME: "/root", PATH: "/bin" })).toEqual({
    PATH: "/bin",
    X: "1",
  });
});

describe("every docker and compose process runs without the config's secrets", () => {
  const docker = (runner: FakeRunner) =>
    createDocker(runner, { compose: "v1", secretEnv: secretEnvNames(config, readText) });
  const clean = (o: RunOptions) => {
    const env = seen(o);
    for (const n of [...SECRETS, "KOPIA_PASSWORD", "AWS_SECRET_ACCESS_KEY", "AZURE_STORAGE_KEY", "B2_KEY"])
      expect(env[n]).toBeUndefined();
    for (const n of KEPT) expect(env[n]).toBe(ours[n] as string);
  };

  // Checked on the recorded calls: composeVersion swallows a failed expectation inside the runner.
  test("compose version and up (up substitutes ${VAR} in the restored compose file)", async () => {
    const runner = new FakeRunner([
      { argv: ["docker-compose", "version", "--short"], stdout: "1.29.2\n" },
      { argv: (a) => a[0] === "docker-compose" && a.includes("up") },
    ]);
    await docker(runner).composeUp({ project: "shop", files: ["/t/a.yml"], cwd: "/t" });
    expect(runner.remaining).toBe(0);
    for (const c of runner.calls) clean(c.options);
  });

  test("docker run --env-file (a bare NAME there takes the CLI's value) and docker exec", async () => {
    const runner = new FakeRunner([
      { argv: (a) => a[1] === "run", stdout: "id\n" },
      { argv: (a) => a[1] === "exec" },
    ]);
    const d = docker(runner);
    await d.run({ args: ["--name", "x", "img"], envFile: "/tmp/kd/1.env" });
    await d.containerExec("x", ["true"], { env: { PGUSER: "app" } });
    for (const c of runner.calls) clean(c.options);
    expect(runner.calls[1]?.argv).toContain("PGUSER=app");
    // The command's env goes to the container as argv, not into the CLI's own environment.
    expect(runner.calls[1]?.options.env?.PGUSER).toBeUndefined();
  });

  test("without a config (createDocker's default) kopi-docka's own secrets are still unset", async () => {
    const runner = new FakeRunner([{ argv: ["docker-compose", "version", "--short"], stdout: "1.29.2\n" }]);
    expect(await createDocker(runner, { compose: "v1" }).composeVersion()).toBeDefined();
    const env = seen(runner.calls[0]?.options ?? {});
    expect(env.KOPIA_PASSWORD).toBeUndefined();
    expect(env.AWS_SECRET_ACCESS_KEY).toBeUndefined();
    expect(env.DOCKER_HOST).toBe(ours.DOCKER_HOST as string);
  });
});
