import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Discovery } from "../../src/core/discovery/model.ts";
import { runCli } from "../helpers/cli.ts";
import { describeCompose, runCompose } from "../helpers/compose.ts";
import {
  QUICK_STOP,
  run,
  startContainer,
  TEST_IMAGE,
  tempDir,
  uniqueName,
  writeTestConfig,
} from "../helpers/env.ts";

// A standalone helper labelled with a compose project's name, sorting before the project's
// containers, once took the name and left the whole project out. And containers left out of the
// project (excluded by label, a one-off `compose run`) kept writing its volume unmarked.
describeCompose(
  "discovery: a project's name and the containers left out of it",
  ["docker", "image"],
  (cmp) => {
    const dir = tempDir("kd-clash-");
    const project = uniqueName("kdclash").replace(/[^a-z0-9]/g, "");
    const volume = `${project}_data`;
    const helper = uniqueName("aa-kdclash-helper");
    const writer = uniqueName("kdclash-writer");
    const compose = (...args: string[]) => runCompose(cmp, ["-p", project, ...args], { cwd: dir.path });
    let discovery: Discovery;

    beforeAll(async () => {
      const yaml = `version: "3.7"\nservices:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["sh", "-c", "${QUICK_STOP}"]\n    volumes: ["data:/data"]\nvolumes:\n  data: {}\n`;
      writeFileSync(join(dir.path, "docker-compose.yml"), yaml);
      await compose("up", "-d");
      await compose("run", "-d", "app", "sh", "-c", QUICK_STOP);
      await startContainer(helper, volume, ["--label", `kopi-docka.unit=${project}`]);
      await startContainer(writer, volume, ["--label", "kopi-docka.exclude=true"]);
      const r = await runCli(["list", "--json", "--config", writeTestConfig(join(dir.path, "kd"))]);
      if (r.exitCode !== 0) throw new Error(`list failed: ${r.stderr}`);
      discovery = JSON.parse(r.stdout);
    }, 180_000);

    afterAll(async () => {
      await run(["docker", "rm", "-f", helper, writer], { check: false });
      await compose("down", "-v", "--remove-orphans").catch(() => undefined);
      dir.remove();
    }, 120_000);

    test("the project keeps its name and its containers; the helper is left out, NOT PROTECTED", () => {
      const named = discovery.units.filter((u) => u.name === project);
      expect(named.map((u) => [u.type, u.excluded, u.containers.map((c) => c.name)])).toEqual([
        ["compose", undefined, [cmp.container(project, "app")]],
      ]);
      const item = named[0]?.skipped.find((s) => s.id === helper);
      expect(item?.notProtected).toBe(true);
      expect(item?.reason).toStartWith(`standalone container labelled kopi-docka.unit=${project}`);
    });

    test("its volume is marked written by the helper, the excluded writer and the one-off run", () => {
      const u = discovery.units.find((x) => x.name === project);
      const oneoff = u?.skipped.find((s) => s.reason === "one-off `compose run` container");
      expect(oneoff).toBeDefined();
      expect(u?.volumes.find((v) => v.name === volume)?.writtenByOthers?.sort()).toEqual(
        [
          `${helper} (left out of unit ${project}: standalone container labelled kopi-docka.unit=${project}, a compose project's name)`,
          `${oneoff?.id} (left out of unit ${project}: one-off \`compose run\` container)`,
          `${writer} (left out of unit ${writer}: label kopi-docka.exclude=true)`,
        ].sort(),
      );
    });
  },
);
