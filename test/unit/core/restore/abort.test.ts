import { expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../../../src/core/log.ts";
import { registerRestoreEnd } from "../../../../src/core/restore/abort.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { tempDir } from "../../../helpers/env.ts";

function setup(running: Record<string, boolean>) {
  const dir = tempDir("kd-abort-");
  const temp = join(dir.path, "restore", "r1");
  mkdirSync(temp, { recursive: true });
  const docker = new FakeDocker({
    containers: Object.entries(running).map(([id, up]) => FakeDocker.container(id, { Running: up })),
  });
  const warnings: string[] = [];
  const log = silentLogger();
  log.warn = ((m: string) => {
    warnings.push(m);
  }) as unknown as typeof log.warn;
  const lifecycle = new Lifecycle();
  return { dir, temp, docker, warnings, lifecycle, d: { docker, log, lifecycle } };
}

test("an aborted restore: temp dir gone; really stopped containers, the half-written volume and the undo point named", async () => {
  const s = setup({ c1: false, c2: true });
  const progress = {
    stopped: [
      { id: "c1", name: "db" },
      { id: "c2", name: "web" },
    ],
    writing: "volume shop_db",
    written: true,
    undoPoint: "shop@restore-1",
    done: false,
  };
  const done: string[] = [];
  registerRestoreEnd(s.d, "shop", s.temp, progress, {
    done: async (id) => {
      done.push(id);
    },
  });
  await s.lifecycle.runAll();
  // The running one needs no recovery; the stopped one stays held in the journal.
  expect(done).toEqual(["c2"]);
  expect(existsSync(s.temp)).toBe(false);
  expect(s.warnings).toEqual([
    "volume shop_db was being restored: its content is partly restored",
    "left stopped (start them when ready): db",
    "undo point: kopi-docka restore --unit shop --run shop@restore-1",
  ]);
  s.dir.remove();
});

test("a finished restore only removes its temp dir and asks docker nothing", async () => {
  const s = setup({});
  registerRestoreEnd(
    s.d,
    "shop",
    s.temp,
    { stopped: [], done: true, undoPoint: "shop@restore-1" },
    { done: async () => {} },
  );
  await s.lifecycle.runAll();
  expect(existsSync(s.temp)).toBe(false);
  expect(s.warnings).toEqual([]);
  expect(s.docker.calls).toEqual([]);
  s.dir.remove();
});

test("a restore that failed before any data was replaced starts what it stopped again, the last stopped first", async () => {
  const s = setup({ c1: false, c2: false, c3: true });
  const infos: string[] = [];
  s.d.log.info = ((m: string) => {
    infos.push(m);
  }) as unknown as typeof s.d.log.info;
  const stopped = [
    { id: "c2", name: "web" },
    { id: "c3", name: "worker" },
    { id: "c1", name: "db" },
  ];
  const done: string[] = [];
  registerRestoreEnd(
    s.d,
    "shop",
    s.temp,
    { stopped, undoPoint: "shop@restore-1", done: false },
    {
      done: async (id) => {
        done.push(id);
      },
    },
  );
  await s.lifecycle.runAll();
  // Started again (or running already): nothing left for recovery.
  expect(done).toEqual(["c1", "c3", "c2"]);
  expect(s.docker.calls.filter((c) => c.startsWith("start"))).toEqual(["start c1", "start c2"]);
  expect(infos).toEqual([
    "nothing was overwritten: started db again",
    "nothing was overwritten: started web again",
  ]);
  expect(s.warnings).toEqual(["undo point: kopi-docka restore --unit shop --run shop@restore-1"]);
  s.dir.remove();
});
