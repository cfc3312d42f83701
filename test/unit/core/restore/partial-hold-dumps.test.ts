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

// A restore with --start of compose unit shop in place: its database db is fed its dump, its volume
// shop_data comes back whole, app's volume shop_uploads comes back with fewer files than its
// snapshot holds. The database is started for its feed (compose `up db`, then started again) and
// fed; nothing else starts: app stays stopped and held, the rest of the project is not brought up,
// and the post_restore hook does not run.

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const DUMP = "CREATE TABLE t (id int);\n";

const running = (id: string, name: string, policy: string): ContainerInspect => ({
  ...FakeDocker.container(id, { StartedAt: "2026-03-01T10:00:00Z" }, name),
  HostConfig: { RestartPolicy: { Name: policy, MaximumRetryCount: 0 } },
});

function restore() {
  const t = tempDir("kd-partial-dumps-");
  dirs.push(t);
  const journalDir = join(t.path, "journal");
  const hook = join(t.path, "post-restore");
  writeFileSync(hook, "#!/bin/sh\n", { mode: 0o755 });
  const docker = new FakeDocker({
    containers: [running("id-app", "shop_app_1", "always"), running("id-db", "shop_db_1", "always")],
  });
  const volume = (name: string, snapshotId: string) => {
    const data = join(t.path, name);
    mkdirSync(data, { mode: 0o700 });
    docker.volumes.set(name, { Name: name, Driver: "local", Mountpoint: data, Options: {}, Labels: {} });
    return {
      ...{ name, from: name, snapshotId, sizeBytes: 32, files: 3 },
      ...{ action: "overwrite", driver: "local", options: {}, labels: {} },
    };
  };
  const plan = {
    request: { what: "all" },
    point: { unit: "shop", key: "shop@b1" },
    hooks: { pre: "", post: hook },
    // Dependents first: app needs db.
    stop: [
      { id: "id-app", name: "shop_app_1" },
      { id: "id-db", name: "shop_db_1" },
    ],
    users: ["id-app", "id-db"],
    undo: [],
    volumes: [volume("shop_data", "k-data"), volume("shop_uploads", "k-uploads")],
    binds: [],
    networks: [],
    files: [],
    dumps: [
      {
        ...{ container: "shop_db_1", from: "shop_db_1", snapshotId: "m1", object: "k-dump/all.sql" },
        ...{ sizeBytes: DUMP.length, restore: ["mariadb"] },
      },
    ],
    start: {
      ...{ kind: "compose", project: "shop", files: ["/srv/shop/docker-compose.yml"], cwd: "/srv/shop" },
      first: ["db"],
    },
    missing: [],
    refusals: [],
    warnings: [],
  } as unknown as RestorePlan;
  const kopia = {
    // shop_uploads: two names that are not UTF-8 came back as one file.
    async snapshotRestore(id: string, _to: string, o: { onStderrLine?: (l: string) => void }) {
      const files = id === "k-uploads" ? 2 : 3;
      o.onStderrLine?.(`Restored ${files} files, 1 directories and 0 symbolic links (32 B).`);
    },
    async showStream(_object: string, o: { stdoutStream: (s: ReadableStream<Uint8Array>) => void }) {
      o.stdoutStream(new Response(DUMP).body as ReadableStream<Uint8Array>);
      return { argv: [], exitCode: 0, signal: null, stdout: "", stderr: "", durationMs: 0 };
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
  return { run, docker, hookRuns, journal };
}

test("dumps and a short volume: the database is started and fed, app stays held, nothing else starts, no hook", async () => {
  const r = restore();
  const result = await r.run();
  expect(result.incomplete).toEqual([expect.stringContaining("shop_uploads")]);
  expect(result.dumps).toEqual(["shop_db_1"]);
  expect(r.docker.execStdin).toEqual([DUMP]);
  expect(result.held).toEqual(["shop_app_1"]);
  // Only the database came up: the result does not read as if the project was started.
  expect(result.started).toEqual(["shop (db)"]);
  expect(r.docker.calls.filter((c) => /^(stop|start|compose up|update --restart|exec) /.test(c))).toEqual([
    "stop id-app -t30",
    "stop id-db -t30",
    "update --restart no id-app",
    "update --restart no id-db",
    "compose up shop db",
    "start id-db",
    "update --restart always id-db",
    "exec shop_db_1 mariadb",
  ]);
  // The database's hold ended when it started for its feed; app's stays, its policy kept at `no`.
  expect(r.journal().map((e) => [e.containerName, e.heldPolicy?.name])).toEqual([["shop_app_1", "always"]]);
  expect(r.hookRuns()).toEqual([]);
  expect(result.warnings).toContainEqual(
    expect.stringMatching(/^post_restore hook \S+ was not run: fewer files came back/),
  );
  expect(result.restartFailed).toBeUndefined();
});
