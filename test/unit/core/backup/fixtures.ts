import { join } from "node:path";
import type { Config } from "../../../../src/config/schema.ts";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import type { BackupDeps } from "../../../../src/core/backup/deps.ts";
import type { SourcePlan } from "../../../../src/core/backup/plan-model.ts";
import type { RunRecord } from "../../../../src/core/backup/result.ts";
import { createJournal } from "../../../../src/core/containers/journal.ts";
import type { ContainerInfo, Discovery, Unit } from "../../../../src/core/discovery/model.ts";
import type { Docker } from "../../../../src/core/docker/docker.ts";
import type { ContainerInspect } from "../../../../src/core/docker/schemas.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import type { Runner } from "../../../../src/core/process/runner.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import type { Expectation } from "../../../fakes/fake-runner.ts";

export const config = (over: Record<string, unknown> = {}) => ConfigSchema.parse(over);

/** The least `docker inspect` object the client's schema accepts, with this env. */
export function inspectOf(name: string, env: string[] = ["PLAIN=1"], id = `id-${name}`): ContainerInspect {
  return {
    Id: id,
    Name: `/${name}`,
    Image: "sha256:1",
    State: { Status: "running", Running: true },
    Config: { Image: "busybox", Env: env },
  };
}

export function container(name: string, over: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: `id-${name}`,
    name,
    image: "busybox",
    imageId: "sha256:1",
    imageDigests: [],
    state: "running",
    running: true,
    restartPolicy: "no",
    labels: {},
    env: {},
    mounts: [],
    networks: [],
    stop: true,
    inspect: inspectOf(name),
    ...over,
  };
}

export const service = (project: string, svc: string, dependsOn: string[] = []) => ({
  project,
  service: svc,
  configFiles: [],
  dependsOn,
  oneoff: false,
});

/** A compose unit: db ← app ← web, one volume, one bind, one network. */
export function stackUnit(name = "shop"): Unit {
  return {
    name,
    type: "compose",
    mode: "cold",
    containers: [
      container(`${name}_web_1`, { compose: service(name, "web", ["app"]) }),
      container(`${name}_app_1`, { compose: service(name, "app", ["db"]) }),
      container(`${name}_db_1`, { compose: service(name, "db"), database: "postgres" }),
    ],
    volumes: [
      {
        name: `${name}_dbdata`,
        driver: "local",
        options: {},
        labels: {},
        mountpoint: `/var/lib/docker/volumes/${name}_dbdata/_data`,
        scope: "local",
        usedBy: [`${name}_db_1`],
        sizeBytes: 1000,
      },
    ],
    bindMounts: [
      {
        source: "/srv/shop/uploads",
        targets: [{ container: `${name}_app_1`, destination: "/uploads", readOnly: false }],
        readOnly: false,
        kind: "directory",
        sizeBytes: 24,
      },
    ],
    networks: [
      {
        name: `${name}_default`,
        id: "n1",
        driver: "bridge",
        inspect: { Name: `${name}_default`, Id: "n1", Driver: "bridge" },
        usedBy: [],
      },
    ],
    composeFiles: [],
    skipped: [],
  };
}

export const discovery = (...units: Unit[]): Discovery => ({
  units,
  discoveredAt: "2025-01-01T00:00:00.000Z",
});

/** Volume `v` of unit `u` as the plan has it: what warm and gated snapshots take. */
export const volumeSource = {
  type: "volume",
  label: "v",
  path: "/var/lib/docker/volumes/v/_data",
  logicalPath: "/kopi-docka/u/volumes/v",
  tags: { type: "volume", unit: "u", backup_id: "b", run_id: "r", volume: "v" },
  excludePatterns: [],
  reason: "test",
} as unknown as SourcePlan;

/** A repository that answers every snapshot, policy and maintenance call (maintenance is someone else's). */
export function kopiaAnswers(): Expectation[] {
  const kopia = (sub: string) => (a: readonly string[]) => a[0] === "kopia" && a.includes(sub);
  const manifest = { id: "m1", source: { host: "h", userName: "kopi-docka", path: "/x" }, startTime: "t" };
  return [
    { argv: kopia("snapshot"), stdout: `${JSON.stringify(manifest)}\n` },
    { argv: kopia("policy"), stdout: "{}\n" },
    { argv: kopia("maintenance"), stdout: JSON.stringify({ owner: "someone@else" }) },
  ];
}

export const planOpts = { runId: "RUN", hostname: "h", version: "9.9.9", stagingDir: "/stage" };

/** kopia over a (fake) runner, as every unit test of the backup drives it. */
export function fakeKopia(runner: Runner) {
  return createKopia(runner, {
    configFile: "/k.config",
    cacheDir: "/c",
    logDir: "/l",
    password: () => "pw",
    hostname: "h",
    username: "kopi-docka",
  });
}

/** Backup deps over a fake runner and docker: kopia as `kopi-docka@h`, a journal under `dir`, no sleeps. */
export function backupDeps<R extends Runner, D extends Docker>(o: {
  config: Config;
  runner: R;
  docker: D;
  dir: string;
}) {
  return {
    config: o.config,
    runner: o.runner,
    docker: o.docker,
    kopia: fakeKopia(o.runner),
    log: silentLogger(),
    lifecycle: new Lifecycle(),
    journal: createJournal(join(o.dir, "journal")),
    hostname: "h",
    version: "9.9.9",
    sleep: async () => {},
  } satisfies BackupDeps;
}

/** A successful run record of host "h" with no units, started and ended at `at`. */
export const emptyRunRecord = (runId: string, at: string, over: Partial<RunRecord> = {}): RunRecord => ({
  runId,
  version: "0.1.0",
  hostname: "h",
  scope: "standard",
  startedAt: at,
  finishedAt: at,
  durationMs: 1,
  status: "ok",
  units: [],
  errors: [],
  ...over,
});
