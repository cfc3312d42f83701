import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import {
  describeReal,
  QUICK_STOP,
  run,
  runTestContainer,
  TEST_IMAGE,
  tempDir,
  uniqueName,
  writeTestConfig,
} from "../helpers/env.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };
type Container = { name: string; imageLabels?: string[]; ignoredLabels?: string[]; stop: boolean };
type ListedUnit = { name: string; containers: Container[]; skipped: { id: string; reason: string }[] };

// Issue 14: `kopi-docka.*` labels an image sets reach every container made from it. Whoever built the
// image is not this host's admin: such labels are shown as the image's, and the ones that leave data
// out (exclude, exclude-volumes, stop=false) count only once the config confirms them.
describeReal("kopi-docka labels inherited from an image", ["docker", "image"], () => {
  const dir = tempDir("kd-imglabels-");
  const repo = `kopi-docka-test/labelled-${uniqueName("img").toLowerCase()}`;
  const image = `${repo}:1`;
  const inherited = uniqueName("kdt-imglabel-inh");
  const own = uniqueName("kdt-imglabel-own");
  const list = async (extra = "") => {
    const config = writeTestConfig(join(dir.path, `kd${extra.length}`), extra);
    const r = await runCli(["list", "--json", "--config", config], { env });
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    const units = JSON.parse(r.stdout).units as ListedUnit[];
    return { units, text: (await runCli(["list", "--config", config], { env })).stdout };
  };

  beforeAll(async () => {
    writeFileSync(
      join(dir.path, "Dockerfile"),
      `FROM ${TEST_IMAGE}\nLABEL kopi-docka.exclude=true kopi-docka.stop=false\n`,
    );
    await run(["docker", "build", "-q", "-t", image, dir.path], { timeoutMs: 120_000 });
    await run(["docker", "run", "-d", "--name", inherited, image, "sh", "-c", QUICK_STOP]);
    await runTestContainer(own, ["--label", "kopi-docka.exclude=true"]);
  }, 180_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", inherited, own], { check: false });
    await run(["docker", "rmi", "-f", image], { check: false });
    dir.remove();
  }, 60_000);

  test("an inherited exclude or stop=false is shown as the image's and ignored; the host's own label counts", async () => {
    const { units, text } = await list();
    const unit = units.find((u) => u.name === inherited);
    const c = unit?.containers.find((x) => x.name === inherited);
    expect(c).toMatchObject({ imageLabels: ["kopi-docka.exclude", "kopi-docka.stop"], stop: true });
    expect(c?.ignoredLabels?.join("\n")).toContain(`backup.trust_image_labels = ["${repo}"]`);
    expect(c?.ignoredLabels?.join("\n")).toContain(`[units.${inherited}] exclude = true`);
    expect(text).toContain("from the image: kopi-docka.exclude=true kopi-docka.stop=false");
    expect(text).toContain("image label kopi-docka.exclude=true ignored");
    // A label set on the container itself (`docker run --label`) is the host's choice.
    const mine = units.find((u) => u.name === own);
    expect(mine?.containers).toEqual([]);
    expect(mine?.skipped).toContainEqual(
      expect.objectContaining({ id: own, reason: "label kopi-docka.exclude=true" }),
    );
  }, 120_000);

  test("confirmed in the config (trusted image, or [units.X]), the labels take effect", async () => {
    const trusted = await list(`[backup]\ntrust_image_labels = ["${repo}"]\n`);
    const unit = trusted.units.find((u) => u.name === inherited);
    expect(unit?.containers).toEqual([]);
    expect(unit?.skipped).toContainEqual(expect.objectContaining({ id: inherited }));
    const confirmed = await list(`[units."${inherited}"]\nstop = false\n`);
    const c = confirmed.units.find((u) => u.name === inherited)?.containers[0];
    expect(c).toMatchObject({ name: inherited, stop: false });
  }, 120_000);
});
