import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import {
  describeReal,
  QUICK_STOP,
  run,
  TEST_IMAGE,
  tempDir,
  uniqueName,
  writeTestConfig,
} from "../helpers/env.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };
type Container = { name: string; imageUnknown?: true; ignoredLabels?: string[] };
type ListedUnit = {
  name: string;
  containers: Container[];
  skipped: { id: string }[];
  composeFiles: { labelPath: string; hostPath?: string; found: boolean }[];
};

// `docker rmi -f <id>` deletes the image of a stopped container (docker 20.10 refuses only while one
// runs), and the container starts again without it. Its labels may then be its own or the deleted
// image's, which nobody can tell: unless the image is trusted, its kopi-docka.* labels are ignored and
// compose's working_dir / config_files labels name no host file the backup reads.
describeReal("a container whose image was deleted under it", ["docker", "image"], () => {
  const dir = tempDir("kdt-imggone-");
  const repo = uniqueName("kdt-img").toLowerCase();
  const image = `${repo}:1`;
  const solo = uniqueName("kdt-solo");
  const project = uniqueName("kdt-proj").toLowerCase();
  const member = `${project}-app-1`;
  const composeFile = join(dir.path, "compose.yml");
  const list = async (extra = "") => {
    const config = writeTestConfig(join(dir.path, `kd${extra.length}`), extra);
    const r = await runCli(["list", "--json", "--config", config], { env });
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    const units = JSON.parse(r.stdout).units as ListedUnit[];
    return { solo: units.find((u) => u.name === solo), project: units.find((u) => u.name === project) };
  };

  beforeAll(async () => {
    // An image of its own (a label makes a new id), so deleting it leaves the shared test image alone.
    writeFileSync(join(dir.path, "Dockerfile"), `FROM ${TEST_IMAGE}\nLABEL kd-test=image-gone\n`);
    writeFileSync(composeFile, "services:\n  app: {}\n");
    await run(["docker", "build", "-q", "-t", image, dir.path], { timeoutMs: 120_000 });
    await run([
      "docker",
      "run",
      "-d",
      "--name",
      solo,
      "--label",
      "kopi-docka.exclude=true",
      image,
      "sh",
      "-c",
      QUICK_STOP,
    ]);
    const compose = {
      "com.docker.compose.project": project,
      "com.docker.compose.service": "app",
      "com.docker.compose.project.working_dir": dir.path,
      "com.docker.compose.project.config_files": composeFile,
    };
    const labels = Object.entries(compose).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
    await run(["docker", "create", "--name", member, ...labels, image, "sh", "-c", QUICK_STOP]);
  }, 180_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", solo, member], { check: false });
    await run(["docker", "rmi", "-f", image], { check: false });
    dir.remove();
  }, 60_000);

  test("its image there, the container's own labels count", async () => {
    const found = await list();
    expect(found.solo?.skipped.map((s) => s.id)).toEqual([solo]);
    expect(found.project?.composeFiles).toEqual([
      { labelPath: composeFile, hostPath: composeFile, found: true },
    ]);
  }, 120_000);

  test("its image deleted: labels ignored, saying why; trusted in the config, they count again", async () => {
    const id = (await run(["docker", "inspect", "-f", "{{.Image}}", solo])).stdout.trim();
    await run(["docker", "stop", "-t", "0", solo]);
    await run(["docker", "rmi", "-f", id]);
    await run(["docker", "start", solo]);
    const inspect = await run(["docker", "image", "inspect", id], { check: false });
    expect({ exit: inspect.exitCode, stdout: inspect.stdout.trim() }).toEqual({ exit: 1, stdout: "[]" });

    const found = await list();
    const why = `could not be inspected, so it may have set it`;
    expect(found.solo?.skipped).toEqual([]);
    expect(found.solo?.containers[0]).toMatchObject({ name: solo, imageUnknown: true });
    expect(found.solo?.containers[0]?.ignoredLabels?.join("\n")).toContain(`label kopi-docka.exclude=true`);
    expect(found.solo?.containers[0]?.ignoredLabels?.join("\n")).toContain(`its image ${image} ${why}`);
    expect(found.project?.composeFiles).toEqual([]);
    expect(found.project?.containers[0]?.ignoredLabels).toHaveLength(2);

    const trusted = await list(`[backup]\ntrust_image_labels = ["${repo}"]\n`);
    expect(trusted.solo?.skipped.map((s) => s.id)).toEqual([solo]);
    expect(trusted.project?.composeFiles.map((f) => f.found)).toEqual([true]);
  }, 120_000);
});
