import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { packBundle } from "../../../../src/core/dr/archive.ts";
import { bundleEntries } from "../../../../src/core/dr/contents.ts";
import { encryptBundle } from "../../../../src/core/dr/crypto.ts";
import { runDrill } from "../../../../src/core/dr/drill.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { bundleInput } from "./fixtures.ts";

// recover.sh's commands run the kopia `[kopia] binary` picks; the drill proves the same one, not
// whichever kopia PATH has (an air-gapped host may have only the one inside kopi-docka).
test("the drill connects with the kopia the bundle's config picks", async () => {
  const dir = tempDir("kd-drill-kopia-");
  const kopia = "/opt/kd-test/kopia";
  const input = bundleInput({
    configText: `[kopia]\nbinary = "${kopia}"\n\n[repository]\npath = "/srv/repo"\n`,
  });
  const file = join(dir.path, "b.age");
  const pass = "pass-phrase-123";
  writeFileSync(file, await encryptBundle(packBundle(bundleEntries(input), input.createdAt), pass, 10));
  const runner = new FakeRunner(
    [
      { argv: [kopia, "--version"], stdout: "0.23.1 build: x from: y\n" },
      { argv: (a) => a[0] === kopia && a.includes("connect"), exitCode: 1, stderr: "unreachable" },
    ],
    [{ argv: (a) => a[0] === kopia && a.includes("disconnect") }],
  );
  const ctx = { runner, docker: new FakeDocker(), log: silentLogger(), lifecycle: new Lifecycle() };
  const r = await runDrill(ctx, { file, passphrase: pass, selfArgv: ["kopi-docka"] });
  expect(r.checks.slice(0, 2).map((c) => [c.step, c.status])).toEqual([
    ["decrypt", "pass"],
    ["connect read-only", "fail"],
  ]);
  expect(runner.remaining).toBe(0);
  expect(runner.calls.map((c) => c.argv[0])).toEqual([kopia, kopia, kopia]);
  dir.remove();
});
