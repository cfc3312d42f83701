import { afterEach, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { heldContainers, heldRefusal } from "../../../../src/core/backup/held.ts";
import { containersCheck } from "../../../../src/core/containers/doctor-check.ts";
import { createJournal, type JournalEntry } from "../../../../src/core/containers/journal.ts";
import { recoverContainers } from "../../../../src/core/containers/recover.ts";
import type { ContainerInspect } from "../../../../src/core/docker/docker.ts";
import { ProcessError } from "../../../../src/core/errors.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { restoreStops } from "../../../../src/core/restore/stop-journal.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { tempDir } from "../../../helpers/env.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});
function journalDir(): string {
  const d = tempDir("kdt-heldpolicy-");
  dirs.push(d);
  return join(d.path, "journal");
}

const STARTED = "2026-11-30T00:00:00Z";
/** A running container with this restart policy, as docker inspects it. */
function container(id: string, policy: string, count = 0, over: object = {}): ContainerInspect {
  const c = FakeDocker.container(id, { StartedAt: STARTED, ...over }, `shop-${id}`);
  return { ...c, HostConfig: { RestartPolicy: { Name: policy, MaximumRetryCount: count } } };
}
const policy = (d: FakeDocker, id: string) => {
  const p = d.containers.get(id)?.HostConfig?.RestartPolicy;
  return `${p?.Name}:${p?.MaximumRetryCount}`;
};
/** The journal files as they are on disk at this moment. */
const onDisk = (dir: string): JournalEntry[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => n.endsWith(".json"))
        .map((n) => JSON.parse(readFileSync(join(dir, n), "utf8")))
    : [];
const capture = () => {
  const errors: string[] = [];
  const log = silentLogger();
  log.error = ((m: unknown) => errors.push(String(m))) as unknown as typeof log.error;
  return { log, errors };
};

test("a held container's restart policy is saved durably, then set to no; a finished restore puts it back before clearing", async () => {
  const dir = journalDir();
  const seen: string[] = [];
  const docker = new FakeDocker({
    containers: [container("db", "always"), container("web", "on-failure", 3), container("job", "no")],
    // At each update, what the journal on disk says: the saved policy is there before `no` is set,
    // and still there when the old one is put back.
    before: (call) => {
      if (call.startsWith("update"))
        seen.push(`${call} | ${onDisk(dir).map((e) => `${e.containerId}=${e.heldPolicy?.name ?? "-"}`)}`);
    },
  });
  const stops = restoreStops(
    { docker, log: silentLogger(), paths: { journalDir: dir } },
    { runId: "r1", unit: "shop" },
  );
  for (const id of ["db", "web", "job"]) {
    await stops.stopping({ id, name: `shop-${id}` });
    await docker.stop(id, 10);
  }
  await stops.hold("shop@r1");
  expect([policy(docker, "db"), policy(docker, "web"), policy(docker, "job")]).toEqual([
    "no:0",
    "no:0",
    "no:0",
  ]);
  const held = Object.fromEntries(onDisk(dir).map((e) => [e.containerId, e.heldPolicy]));
  expect(held).toEqual({
    db: { name: "always", maximumRetryCount: 0 },
    web: { name: "on-failure", maximumRetryCount: 3 },
    job: { name: "no", maximumRetryCount: 0 },
  });
  await stops.done("db");
  await stops.release("web");
  expect([policy(docker, "db"), policy(docker, "web")]).toEqual(["always:0", "on-failure:3"]);
  expect(seen.filter((s) => s.startsWith("update --restart no"))).toEqual([
    "update --restart no db | db=always,job=no,web=on-failure",
    "update --restart no web | db=always,job=no,web=on-failure",
  ]);
  expect(seen.filter((s) => !s.startsWith("update --restart no"))).toEqual([
    "update --restart always db | db=always,job=no,web=on-failure",
    "update --restart on-failure:3 web | job=no,web=on-failure",
  ]);
  // web stays for recovery to start, no longer held and with nothing left to put back.
  expect(onDisk(dir).find((e) => e.containerId === "web")).not.toHaveProperty("heldPolicy");
});

test("the heal: a held container the admin started gets its policy back, then the entry goes; a removed one just goes", async () => {
  const dir = journalDir();
  const journal = createJournal(dir);
  const hold = "restore r1 of shop was replacing its data when it ended";
  const base = {
    runId: "r1",
    pid: 2 ** 22 + 7,
    unit: "shop",
    stoppedAt: "2026-12-01T00:00:00Z",
    startedAt: STARTED,
  };
  journal.record({
    ...base,
    containerId: "db",
    containerName: "/shop-db",
    hold,
    heldPolicy: { name: "always", maximumRetryCount: 0 },
  });
  journal.record({
    ...base,
    containerId: "gone",
    containerName: "/shop-gone",
    hold,
    heldPolicy: { name: "always", maximumRetryCount: 0 },
  });
  // Started by a person: its policy is still the `no` the hold set.
  const docker = new FakeDocker({
    containers: [container("db", "no", 0, { StartedAt: "2026-12-02T00:00:00Z" })],
  });
  const { log, errors } = capture();
  await recoverContainers({ docker, journal, log, isAlive: () => false });
  expect(policy(docker, "db")).toBe("always:0");
  expect(journal.entries()).toEqual([]);
  expect(errors).toContain(`shop-db: already running, though ${hold}`);
});

test("a held container running with a policy that is not no: docker may have started it itself, and the message says so", async () => {
  const journal = createJournal(journalDir());
  const hold = "restore r1 of shop was replacing its data when it ended";
  // An entry from before policies were held: the container kept `always`, and dockerd started it at boot.
  journal.record({
    runId: "r1",
    pid: 2 ** 22 + 7,
    unit: "shop",
    containerId: "db",
    containerName: "/shop-db",
    stoppedAt: "2026-12-01T00:00:00Z",
    startedAt: STARTED,
    hold,
  });
  const docker = new FakeDocker({
    containers: [container("db", "always", 0, { StartedAt: "2026-12-02T00:00:00Z" })],
  });
  const { log, errors } = capture();
  await recoverContainers({ docker, journal, log, isAlive: () => false });
  expect(errors).toHaveLength(1);
  expect(errors[0]).toContain(
    `shop-db: already running, though ${hold}. Its restart policy is always, so docker may have started it by itself`,
  );
  expect(errors[0]).toContain("docker inspect -f '{{.State.StartedAt}}' shop-db");
  expect(journal.entries()).toEqual([]);
});

test("a policy docker would not put back keeps the entry, no longer held, for the next heal to try again", async () => {
  const journal = createJournal(journalDir());
  const hold = "restore r1 of shop was replacing its data when it ended";
  journal.record({
    runId: "r1",
    pid: 2 ** 22 + 7,
    unit: "shop",
    containerId: "db",
    containerName: "/shop-db",
    stoppedAt: "2026-12-01T00:00:00Z",
    startedAt: STARTED,
    hold,
    heldPolicy: { name: "unless-stopped", maximumRetryCount: 0 },
  });
  const docker = new FakeDocker({
    containers: [container("db", "no", 0, { StartedAt: "2026-12-02T00:00:00Z" })],
    before: (call) => {
      if (call.startsWith("update"))
        throw new ProcessError({
          argv: ["docker", "update"],
          exitCode: 1,
          signal: null,
          stderrTail: "daemon busy",
        });
    },
  });
  await recoverContainers({ docker, journal, log: silentLogger(), isAlive: () => false });
  expect(journal.entries().map((e) => [e.containerId, e.hold, e.heldPolicy?.name])).toEqual([
    ["db", undefined, "unless-stopped"],
  ]);
  docker.before = undefined;
  await recoverContainers({ docker, journal, log: silentLogger(), isAlive: () => false });
  expect(policy(docker, "db")).toBe("unless-stopped:0");
  expect(journal.entries()).toEqual([]);
});

test("doctor and the backup's refusal say the restart policy is held at no, and what it was", async () => {
  const dir = journalDir();
  const journal = createJournal(dir);
  journal.record({
    runId: "r1",
    pid: 2 ** 22 + 7,
    unit: "shop",
    containerId: "db",
    containerName: "/shop-db",
    stoppedAt: "2026-12-01T00:00:00Z",
    startedAt: STARTED,
    hold: "restore r1 of shop",
    heldPolicy: { name: "on-failure", maximumRetryCount: 5 },
  });
  const docker = new FakeDocker({
    containers: [container("db", "no", 0, { Running: false, Status: "exited" })],
  });
  const check = await containersCheck(dir, docker, () => false);
  expect(check.detail).toContain("shop-db (restore r1 of shop; restart policy held at no, was on-failure:5)");
  expect(check.hint).toContain("kopi-docka's next run puts back the restart policy it held at no");
  const held = heldContainers(dir, () => {});
  expect(held).toEqual([
    { id: "db", name: "shop-db", hold: "restore r1 of shop", unit: "shop", policy: "on-failure:5" },
  ]);
  const refusal = heldRefusal(
    "shop",
    [{ id: "db", name: "shop-db", action: "stays_stopped" } as never],
    held,
  );
  expect(refusal?.reason).toContain(
    "restart policy is held at no meanwhile, so docker does not start it by itself (was shop-db: on-failure:5)",
  );
});

test("putting a held policy back keeps one the admin set meanwhile, and says so", async () => {
  const dir = journalDir();
  const journal = createJournal(dir);
  const entry = {
    runId: "r1",
    pid: 2 ** 22 + 7,
    unit: "shop",
    stoppedAt: "2026-12-01T00:00:00Z",
    startedAt: STARTED,
    hold: "restore r1 of shop",
    heldPolicy: { name: "on-failure", maximumRetryCount: 5 },
  };
  journal.record({ ...entry, containerId: "db", containerName: "/shop-db" });
  journal.record({ ...entry, containerId: "web", containerName: "/shop-web" });
  const stoppedNow = { Running: false, Status: "exited" };
  // db: the admin chose unless-stopped while it was held; web: still the hold's `no`.
  const docker = new FakeDocker({
    containers: [container("db", "unless-stopped", 0, stoppedNow), container("web", "no", 0, stoppedNow)],
  });
  const infos: string[] = [];
  const log = silentLogger();
  log.info = ((m: unknown) => infos.push(String(m))) as unknown as typeof log.info;
  const stops = restoreStops({ docker, log, paths: { journalDir: dir } }, { runId: "r2", unit: "shop" });
  expect(await stops.settleHeld(["db", "web"])).toEqual(["shop-db", "shop-web"]);
  expect([policy(docker, "db"), policy(docker, "web")]).toEqual(["unless-stopped:0", "on-failure:5"]);
  expect(infos).toContain(
    "shop-db: restart policy unless-stopped kept: it was set since the hold set no (on-failure:5 not put back)",
  );
  expect(journal.entries()).toEqual([]);
});
