import { afterEach, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createJournal } from "../../../../src/core/containers/journal.ts";
import type { ContainerInspect } from "../../../../src/core/docker/schemas.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { executeRestore } from "../../../../src/core/restore/execute.ts";
import type { RestorePlan } from "../../../../src/core/restore/types.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { config } from "../backup/fixtures.ts";

// A volume kopia restores with fewer files than its snapshot holds (two names that are not UTF-8
// became one): the restore with --start starts nothing of the compose project, neither compose up nor
// the containers it stopped; they stay held, restart policy `no`, and the result says how to go on.

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const running = (id: string, name: string, policy = "no"): ContainerInspect => ({
  ...FakeDocker.container(id, { StartedAt: "2026-03-01T10:00:00Z" }, name),
  HostConfig: { RestartPolicy: { Name: policy, MaximumRetryCount: 0 } },
});

/**
 * A restore in place of volume `shop_db` that app and web use; kopia says it restored `files` of 3.
 * The config's `post_restore` hook is `hook` (a file in the test's directory, run by the fake runner).
 */
function restoreOf(files: number) {
  const t = tempDir("kd-partial-");
  dirs.push(t);
  const hook = join(t.path, "post-restore");
  writeFileSync(hook, "#!/bin/sh\n", { mode: 0o755 });
  const journalDir = join(t.path, "journal");
  const data = join(t.path, "shop_db");
  mkdirSync(data, { mode: 0o700 });
  const docker = new FakeDocker({
    containers: [running("id-app", "shop_app_1", "always"), running("id-web", "shop_web_1")],
  });
  docker.volumes.set("shop_db", {
    Name: "shop_db",
    Driver: "local",
    Mountpoint: data,
    Options: {},
    Labels: {},
  });
  const plan = {
    request: { what: "all" },
    point: { unit: "shop", key: "shop@b1" },
    hooks: { pre: "", post: hook },
    // Dependents first: app needs web.
    stop: [
      { id: "id-app", name: "shop_app_1" },
      { id: "id-web", name: "shop_web_1" },
    ],
    users: ["id-app", "id-web"],
    undo: [],
    volumes: [
      {
        ...{ name: "shop_db", from: "shop_db", snapshotId: "k1", sizeBytes: 32, files: 3 },
        ...{ action: "overwrite", driver: "local", options: {}, labels: {} },
      },
    ],
    binds: [],
    networks: [],
    files: [],
    start: { kind: "compose", project: "shop", files: ["/srv/shop/docker-compose.yml"], cwd: "/srv/shop" },
    missing: [],
    refusals: [],
    warnings: [],
  } as unknown as RestorePlan;
  const kopia = {
    async snapshotRestore(_id: string, _to: string, o: { onStderrLine?: (l: string) => void }) {
      o.onStderrLine?.(`Restored ${files} files, 1 directories and 0 symbolic links (32 B).`);
    },
  };
  const runner = new FakeRunner([], [{ argv: [hook] }]);
  const deps = {
    config: config(),
    runner,
    docker,
    kopia: kopia as never,
    log: silentLogger(),
    lifecycle: new Lifecycle(),
    hostname: "h1",
    version: "0",
    paths: { journalDir },
  };
  const run = () =>
    executeRestore(deps, plan, { runId: "r1", tempDir: join(t.path, "tmp"), now: new Date() });
  const hookRuns = () => runner.calls.filter((c) => c.argv[0] === hook);
  const journal = () => createJournal(journalDir, { warn: () => {} }).entries();
  return { run, docker, hook, hookRuns, journal };
}

const startsAndStops = (docker: FakeDocker) =>
  docker.calls.filter((c) => /^(stop|start|compose up|update --restart) /.test(c));

test("fewer files came back: nothing started, both held (app's policy no, always saved), said how to go on", async () => {
  const r = restoreOf(2);
  const result = await r.run();
  expect(result.incomplete).toHaveLength(1);
  expect(result.started).toEqual([]);
  expect(result.held).toEqual(["shop_web_1", "shop_app_1"]);
  expect(result.heldNext).toEqual([
    "once its data is checked: docker start shop_web_1 shop_app_1",
    "to start compose project shop as --start would (no data is restored again): kopi-docka restore --unit shop --run shop@b1 --only recipe --start --yes",
  ]);
  expect(startsAndStops(r.docker)).toEqual([
    "stop id-app -t30",
    "stop id-web -t30",
    "update --restart no id-app",
  ]);
  const held = r.journal();
  expect(held.map((e) => [e.containerName, e.heldPolicy?.name]).sort()).toEqual([
    ["shop_app_1", "always"],
    ["shop_web_1", "no"],
  ]);
  for (const e of held) expect(e.hold).toStartWith("restore r1 of shop brought back fewer files");
});

test("fewer files came back: the post_restore hook is not run, a warning says how to run it by hand", async () => {
  const r = restoreOf(2);
  const result = await r.run();
  expect(r.hookRuns()).toEqual([]);
  expect(result.warnings).toContain(
    `post_restore hook ${r.hook} was not run: fewer files came back than the snapshot holds; once the data is whole and the held containers are started, run it by hand (the restore with --only recipe --start runs it itself): KOPI_DOCKA_HOOK_TYPE=post_restore KOPI_DOCKA_UNIT_NAME='shop' KOPI_DOCKA_RUN_ID='r1' KOPI_DOCKA_RESTORE_POINT='shop@b1' '${r.hook}'`,
  );
});

test("every file came back: compose up, both started again, their holds ended and app's policy put back", async () => {
  const r = restoreOf(3);
  const result = await r.run();
  expect(result.incomplete).toBeUndefined();
  expect(result.held).toBeUndefined();
  expect(result.started).toEqual(["shop"]);
  expect(startsAndStops(r.docker)).toEqual([
    "stop id-app -t30",
    "stop id-web -t30",
    "update --restart no id-app",
    "compose up shop",
    "start id-web",
    "start id-app",
    "update --restart always id-app",
  ]);
  expect(r.journal()).toEqual([]);
  expect(r.hookRuns()).toMatchObject([
    { options: { env: { KOPI_DOCKA_HOOK_TYPE: "post_restore", KOPI_DOCKA_RESTORE_POINT: "shop@b1" } } },
  ]);
  expect(result.warnings).toEqual([]);
});
