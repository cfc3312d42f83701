import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../../../src/config/load.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import type { Runner } from "../../../../src/core/process/runner.ts";
import { repositoryCheck } from "../../../../src/core/repository/doctor-check.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

/** doctor's repository line on a host connected to an S3 bucket, kopia answering as `answer` says. */
async function check(answer: Omit<Expectation, "argv">, o: { delayMs?: number } = {}) {
  const t = tempDir("kdt-doctor-repo-");
  dirs.push(t);
  const kopiaConfigFile = join(t.path, "kopia.config");
  writeFileSync(kopiaConfigFile, "{}");
  const fake = new FakeRunner([{ argv: (a) => a.includes("status"), ...answer }]);
  // A call that takes a while, as a hung server's does until kopia's limit.
  const runner: Runner = {
    run: async (argv, opts) => {
      await Bun.sleep(o.delayMs ?? 0);
      return fake.run(argv, opts);
    },
  };
  const kopia = createKopia(runner, {
    configFile: kopiaConfigFile,
    cacheDir: join(t.path, "cache"),
    logDir: join(t.path, "logs"),
    password: () => "pw",
    hostname: "h",
    username: "kopi-docka",
  });
  const repo = parseConfigText(
    `[repository]\nbackend = "s3"\nbucket = "b"\nendpoint = "s3.example:9000"\naccess_key_id_file = "/k"\nsecret_access_key_file = "/s"\n`,
    "x",
  ).repository;
  const progress: string[] = [];
  const line = await repositoryCheck(kopia, repo, {
    exists: true,
    kopiaConfigFile,
    progress: (l) => progress.push(l),
    slowMs: 5,
  });
  return { line, progress, timeout: fake.calls[0]?.options.timeoutMs };
}

test("a repository that never answers: a failed check saying so (after a line that it is waited for), not kopia's command line", async () => {
  const { line, progress, timeout } = await check({ timedOut: true }, { delayMs: 50 });
  expect(timeout).toBe(120_000);
  expect(line).toMatchObject({ id: "repository", status: "fail" });
  expect(line.detail).toMatch(/^the repository at .*b.* did not answer within 120 s: is the server hung\?$/);
  expect(line.hint).toContain("check the server");
  expect(progress).toHaveLength(1);
  expect(progress[0]).toMatch(/^waiting for the repository at .* to answer/);
});

test("an answer in time: no waiting line; a refused key is told as a backup tells it", async () => {
  const refused = await check({
    exitCode: 1,
    stderr: "cannot open storage: The AWS Access Key Id you provided does not exist in our records.",
  });
  expect(refused.progress).toEqual([]);
  expect(refused.line).toMatchObject({ status: "fail" });
  expect(refused.line.detail).toContain("refused the credentials");
});
