import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseConfigText } from "../../../../src/config/load.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { createAt, FULL_MAINTENANCE_INTERVAL } from "../../../../src/core/repository/connect-or-create.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const isKopia =
  (...words: string[]) =>
  (a: readonly string[]) =>
    a[0] === "kopia" && words.every((w, i) => a[3 + i] === w);

function created(runner: FakeRunner) {
  const t = tempDir("kdt-create-");
  dirs.push(t);
  const repo = parseConfigText(
    `[repository]\npath = "${join(t.path, "repo")}"\npassword_file = "${join(t.path, "pw")}"\n`,
    "x",
  ).repository;
  const kopia = createKopia(runner, {
    configFile: join(t.path, "k.config"),
    cacheDir: join(t.path, "cache"),
    logDir: join(t.path, "logs"),
    password: () => "pw",
    hostname: "h",
    username: "kopi-docka",
  });
  const lines: string[] = [];
  const log = silentLogger();
  log.warn = ((m: unknown) => lines.push(String(m))) as unknown as typeof log.warn;
  const path = join(t.path, "repo");
  return { run: () => createAt(kopia, log, repo, ["filesystem", "--path", path], {}, path), lines };
}

describe("a repository kopi-docka creates", () => {
  test("gets a weekly full maintenance interval, its first full cycle one interval away", async () => {
    const runner = new FakeRunner([
      { argv: isKopia("repository", "create") },
      {
        argv: (a) =>
          isKopia("maintenance", "set")(a) &&
          a.includes(`--full-interval=${FULL_MAINTENANCE_INTERVAL}`) &&
          a.includes(`--pause-full=${FULL_MAINTENANCE_INTERVAL}`),
      },
    ]);
    await created(runner).run();
    expect(runner.remaining).toBe(0);
    expect(FULL_MAINTENANCE_INTERVAL).toBe("160h");
  });

  test("kopia refuses the interval: the repository stays created, a warning names the command to set it", async () => {
    const runner = new FakeRunner([
      { argv: isKopia("repository", "create") },
      { argv: isKopia("maintenance", "set"), exitCode: 1, stderr: "ERROR boom" },
    ]);
    const c = created(runner);
    await c.run();
    expect(runner.remaining).toBe(0);
    expect(c.lines.join("\n")).toContain("kopi-docka kopia -- maintenance set --full-interval=160h");
  });
});
