import { afterAll, expect, test } from "bun:test";
import { ConfigSchema } from "../../src/config/schema.ts";
import { discoverUnits } from "../../src/core/discovery/discover.ts";
import { createDocker } from "../../src/core/docker/docker.ts";
import { createBunRunner } from "../../src/core/process/runner.ts";
import { describeReal, run, TEST_IMAGE, uniqueName } from "../helpers/env.ts";

/** Starts `count` sleeping containers (on one custom network, one shared volume), a few at a time. */
async function startSleepers(prefix: string, from: number, count: number, label: string, network: string) {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${from + i}`);
  for (let i = 0; i < names.length; i += 10) {
    await Promise.all(
      names
        .slice(i, i + 10)
        .map((name) =>
          run(
            ["docker", "run", "-d", "--name", name, "--label", label, "--network", network].concat([
              "-v",
              `${prefix}-vol:/data`,
              TEST_IMAGE,
              "sleep",
              "3600",
            ]),
            { timeoutMs: 120_000 },
          ),
        ),
    );
  }
  return names;
}

describeReal(
  "discovery: the number of docker processes does not grow with containers",
  ["docker", "image"],
  () => {
    const prefix = uniqueName("kdscale");
    const label = `kdscale-test=${prefix}`;
    const network = `${prefix}-net`;
    const config = ConfigSchema.parse({});

    /** Discovers with a counting runner; returns the docker argvs spawned and our units. */
    async function discoverCounting() {
      const spawned: string[][] = [];
      const docker = createDocker(createBunRunner({ onSpawn: (a) => spawned.push([...a]) }));
      const d = await discoverUnits({ docker, config });
      return { spawned, ours: d.units.filter((u) => u.name.startsWith(`${prefix}-`)) };
    }

    afterAll(async () => {
      const ids = (await run(["docker", "ps", "-aq", "--filter", `label=${label}`])).stdout
        .split("\n")
        .filter(Boolean);
      if (ids.length > 0) await run(["docker", "rm", "-f", ...ids], { check: false, timeoutMs: 300_000 });
      await run(["docker", "volume", "rm", "-f", `${prefix}-vol`], { check: false });
      await run(["docker", "network", "rm", network], { check: false });
    }, 300_000);

    test("3 containers and 100 containers: the same few docker calls", async () => {
      await run(["docker", "network", "create", "--label", label, network]);
      await startSleepers(prefix, 0, 3, label, network);
      const few = await discoverCounting();
      expect(few.ours.length).toBe(3);
      await startSleepers(prefix, 3, 97, label, network);
      const many = await discoverCounting();
      expect(many.ours.length).toBe(100);
      expect(
        many.ours.every((u) => u.networks[0]?.name === network && u.volumes[0]?.name === `${prefix}-vol`),
      ).toBe(true);
      const shape = (argvs: string[][]) => argvs.map((a) => a.slice(0, 3).join(" ")).sort();
      expect(many.spawned.length).toBe(few.spawned.length);
      expect(shape(many.spawned)).toEqual(shape(few.spawned));
      expect(many.spawned.length).toBeLessThanOrEqual(6);
      expect(many.spawned.every((a) => a[0] === "docker")).toBe(true);
    }, 600_000);
  },
);
