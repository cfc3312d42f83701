import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { createConsola } from "consola";
import { parseConfigText } from "../../../../src/config/load.ts";
import { resolvePaths } from "../../../../src/config/resolve.ts";
import { runWithAlerts } from "../../../../src/core/alerts/around-run.ts";
import { sendTestNotifications } from "../../../../src/core/alerts/notify-test.ts";
import { createAlertPhase } from "../../../../src/core/alerts/phase.ts";
import { outcomeError, type RunRecord } from "../../../../src/core/backup/result.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";
import { tempDir } from "../../../helpers/env.ts";
import { pathRecorder } from "../../../helpers/receivers.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A loopback receiver on `port` (0: any), stopped after the test. */
function receiver(port = 0) {
  const r = pathRecorder(port);
  cleanups.push(r.stop);
  return r;
}

/** A host with one json:// target (failures) and a heartbeat, both on `port`; its logged lines. */
function host(port: number) {
  const t = tempDir("kd-pending-phase-");
  cleanups.push(() => t.remove());
  const config = parseConfigText(
    `[paths]\nstate_dir = "${join(t.path, "state")}"\ncache_dir = "${join(t.path, "cache")}"\nlock_file = "${join(t.path, "lock")}"\n` +
      `[alerts]\ntimeout = 2\nping_url = "http://127.0.0.1:${port}/ping"\n` +
      `[[alerts.notify]]\nurl = "json://127.0.0.1:${port}/hook"\nlevel = "failure"\n`,
    "x",
  );
  const lines: string[] = [];
  const log = createConsola({
    level: 5,
    reporters: [{ log: (l) => lines.push(`${l.type} ${l.args.join(" ")}`) }],
  });
  const paths = resolvePaths(config);
  const pending = () => {
    try {
      return readdirSync(join(paths.stateDir, "alerts", "pending"));
    } catch {
      return [];
    }
  };
  return { config, paths, log, lines, pending };
}

const run = (startedAt: string, status: RunRecord["status"]): RunRecord => ({
  runId: startedAt,
  version: "0",
  hostname: "h",
  scope: "standard",
  startedAt,
  finishedAt: startedAt,
  durationMs: 1000,
  status,
  units: [],
  errors: status === "ok" ? [] : [{ phase: "snapshot", message: "disk full" }],
});

/** One backup run through `runWithAlerts`, ending with `record`. */
const backup = (h: ReturnType<typeof host>, record: RunRecord) =>
  runWithAlerts(
    {
      ...h,
      hostname: "h",
      lifecycle: new Lifecycle(),
      kopia: { snapshotList: async () => [] },
      exitCodeFor,
      outcomeError,
      atTerminal: false,
    },
    async (namesChecked) => {
      namesChecked();
      return record;
    },
  );

describe("a failed night's alert that could not be delivered reaches its target with a later run", () => {
  test("receiver down: kept (the heartbeat is not); next run with it up: delivered once, marked, at its start; then none", async () => {
    const probe = receiver();
    const port = probe.port;
    probe.stop();
    const h = host(port);

    await backup(h, run("2026-12-01T02:00:00.000Z", "failed"));
    expect(h.pending()).toHaveLength(1); // the run's report; the /start and /1 pings are not kept
    expect(h.lines.join("\n")).toContain(
      "1 notification(s) not delivered (the backup's result stands); 1 kept",
    );

    const up = receiver(port);
    await backup(h, run("2026-12-02T02:00:00.000Z", "ok"));
    const hooks = up.got.filter((g) => g.path === "POST /hook");
    expect(hooks).toHaveLength(1); // tonight's OK is no failure: only the delayed one
    const sent = JSON.parse(hooks[0]?.body ?? "{}");
    expect(sent.title).toContain("backup FAILED");
    expect(sent.title).toContain("(delayed: from the run at 2026-12-01 02:00:00 UTC)");
    expect(sent.delayedFrom).toBe("2026-12-01T02:00:00.000Z");
    // Sent alongside the start ping, while the backup runs: done before the run's own end.
    expect(up.got.map((g) => g.path).sort()).toEqual(["POST /hook", "POST /ping", "POST /ping/start"]);
    expect(up.got.at(-1)?.path).toBe("POST /ping");
    expect(h.pending()).toEqual([]);

    await backup(h, run("2026-12-03T02:00:00.000Z", "ok"));
    expect(up.got.filter((g) => g.path === "POST /hook")).toHaveLength(1);
  });

  test("check-freshness delivers what the night's backup could not", async () => {
    const probe = receiver();
    const port = probe.port;
    probe.stop();
    const h = host(port);
    await backup(h, run("2026-12-01T02:00:00.000Z", "failed"));
    expect(h.pending()).toHaveLength(1);
    const up = receiver(port);
    await createAlertPhase({ ...h, hostname: "h" }).checkFreshness();
    expect(up.got.filter((g) => g.path === "POST /hook").map((g) => JSON.parse(g.body).delayedFrom)).toEqual([
      "2026-12-01T02:00:00.000Z",
    ]);
    expect(h.pending()).toEqual([]);
  });
});

describe("notify test", () => {
  test("a configured target that got the test then gets what it missed; a --url target gets the test only", async () => {
    const probe = receiver();
    const port = probe.port;
    probe.stop();
    const h = host(port);
    await backup(h, run("2026-12-01T02:00:00.000Z", "failed"));
    expect(h.pending()).toHaveLength(1);
    const up = receiver(port);
    const only = await sendTestNotifications({ ...h, hostname: "h" }, `json://127.0.0.1:${port}/other`);
    expect(only.map((r) => r.ok)).toEqual([true]);
    expect(up.got.map((g) => g.path)).toEqual(["POST /other"]);
    expect(h.pending()).toHaveLength(1);
    const results = await sendTestNotifications({ ...h, hostname: "h" });
    expect(results).toHaveLength(1); // the test's own result; the delayed alert is logged
    const events = up.got.filter((g) => g.path === "POST /hook").map((g) => JSON.parse(g.body));
    expect(events.map((e) => [e.event, e.delayedFrom ?? null])).toEqual([
      ["test", null],
      ["run", "2026-12-01T02:00:00.000Z"],
    ]);
    expect(h.pending()).toEqual([]);
    expect(h.lines.join("\n")).toContain(
      "delayed alert from 2026-12-01 02:00:00 UTC delivered to json://127.0.0.1",
    );
  });
});
