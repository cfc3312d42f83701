import { afterEach, expect, test } from "bun:test";
import { openGated } from "../../../../src/core/backup/gated.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { backupDeps, config, volumeSource } from "./fixtures.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const source = volumeSource;

test("a kopia that ends before it reaches its gate (the repository did not open) is known at once, not after the park timeout", async () => {
  const dir = tempDir("kd-gated-");
  dirs.push(dir);
  // mkfifo is not run: kopia never opens a fifo, as when it fails before its gate action.
  const runner = new FakeRunner([
    { argv: (a) => a[0] === "mkfifo" },
    {
      argv: (a) => a.includes("create") && a.includes(source.path),
      exitCode: 1,
      stderr: "ERROR error connecting to repository: invalid repository password",
    },
  ]);
  const d = backupDeps({ config: config(), runner, docker: new FakeDocker(), dir: dir.path });
  const o = { hostname: "h", timestamp: "2026-12-01T00:00:00Z", log: d.log, unit: "u" };
  const t0 = performance.now();
  const { gated, dispose } = await openGated(d, [source], o);
  expect(performance.now() - t0).toBeLessThan(3_000); // the park timeout is two minutes
  expect(gated.map((g) => g.parked)).toEqual([false]);
  const r = await gated[0]?.abandon("the run cannot go on");
  expect(r).toMatchObject({ status: "failed", reason: "the run cannot go on" });
  expect(runner.remaining).toBe(0);
  dispose();
});
