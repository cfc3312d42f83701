import { expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runDrill } from "../../../../src/core/dr/drill.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";

const drillDirs = () =>
  readdirSync(tmpdir()).filter((n) => n.startsWith(`kopi-docka-drill-p${process.pid}-`));

// The drill's temp dir holds the bundle's decrypted config, password and credentials: it goes even
// when docker cannot say what the drill left (the daemon down under a monthly drill timer).
test("dr drill removes its temp dir when docker fails during the clean-up", async () => {
  const dir = tempDir("kd-drill-cleanup-");
  const file = join(dir.path, "not-a-bundle.age");
  writeFileSync(file, "garbage");
  const before = drillDirs();
  const docker = new FakeDocker({
    before: (call) => {
      if (call.startsWith("objects named")) throw new Error("Cannot connect to the Docker daemon");
    },
  });
  const ctx = { runner: new FakeRunner([]), docker, log: silentLogger(), lifecycle: new Lifecycle() };
  const r = await runDrill(ctx, { file, passphrase: "x".repeat(20), selfArgv: ["kopi-docka"] }).catch(
    (e: unknown) => e,
  );
  expect(drillDirs()).toEqual(before);
  // The failure is still reported, not swallowed.
  expect(JSON.stringify(r)).toContain("Docker daemon");
  dir.remove();
});
