import { afterEach, beforeEach, expect, test } from "bun:test";
import { join } from "node:path";
import { resolvePaths } from "../../../../src/config/resolve.ts";
import { type Config, ConfigSchema } from "../../../../src/config/schema.ts";
import { alertChecks } from "../../../../src/core/alerts/doctor.ts";
import { tempDir } from "../../../helpers/env.ts";

let dir: { path: string; remove: () => void };
let config: Config;
beforeEach(() => {
  dir = tempDir("kd-doctor-reach-");
  config = ConfigSchema.parse({
    paths: { state_dir: join(dir.path, "state") },
    alerts: {
      notify: [
        { url: "ntfy://one.example/t" },
        { url: "ntfy://two.example/t" },
        { url: "ntfy://three.example/t" },
      ],
      ping_url: "https://ping.example/abc",
    },
  });
});
afterEach(() => dir.remove());

const noSecrets = { env: {}, readSecretFile: () => "" };
const DELAY_MS = 300;

test("doctor probes every notify target and the ping URL side by side: hung ones cost one wait, lines in config order", async () => {
  const asked: string[] = [];
  const probe = async (host: string, port: number) => {
    asked.push(`${host}:${port}`);
    await Bun.sleep(DELAY_MS);
    return host === "two.example" ? "timed out" : undefined;
  };
  const began = performance.now();
  const checks = await alertChecks(config, resolvePaths(config), undefined, noSecrets, new Date(), probe);
  const took = performance.now() - began;
  // Four probes of 300 ms one after another would take 1.2 s.
  expect(took).toBeLessThan(DELAY_MS * 1.6);
  expect(asked.sort()).toEqual(["one.example:80", "ping.example:443", "three.example:80", "two.example:80"]);
  const reach = checks.filter((c) => c.id === "notify" || c.id === "ping");
  expect(reach.map((c) => [c.id, c.status])).toEqual([
    ["notify", "ok"],
    ["notify", "warn"],
    ["notify", "ok"],
    ["ping", "ok"],
  ]);
  expect(reach[1]?.detail).toContain("not reachable (timed out)");
  expect(reach[0]?.detail).toContain("one.example");
  expect(reach[2]?.detail).toContain("three.example");
});
