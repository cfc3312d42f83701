import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runningChildren } from "../../src/core/process/children.ts";
import { createBunRunner, type RunResult } from "../../src/core/process/runner.ts";
import {
  describeReal,
  QUICK_STOP,
  run,
  startContainer,
  tempDir,
  uniqueName,
  writeTestConfig,
} from "../helpers/env.ts";
import { processesLeftBy } from "../helpers/processes.ts";

// Signals at random moments of a real `kopi-docka backup` (from source): afterwards every container runs,
// no child is left, the lock is free, the journal is empty, and backups keep working.
const SOURCE_CLI = [process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts")];
const WRITE_AND_QUICK_STOP = `echo a > /data/a; mkdir -p /data/d; echo b > /data/d/b; ${QUICK_STOP}`;
/** Rounds per signal; KD_FAULT_ROUNDS=n shortens a local run (SIGKILL gets two thirds of n). */
const N = Number(process.env.KD_FAULT_ROUNDS ?? 30);
const ROUNDS = { SIGTERM: N, SIGINT: N, SIGKILL: Math.ceil((N * 2) / 3) } as const;
const runner = createBunRunner();

describeReal("fault injection: signals during real backups", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-fault-");
  const name = uniqueName("kdfault");
  const volume = `${name}-v`;
  let config = "";
  let backupMs = 3000;
  const counts: Record<string, Record<string, number>> = {};
  /** Sends `sig` unless the run already ended (it may finish before a late random moment). */
  const send = (pid: number, sig: NodeJS.Signals): boolean => {
    try {
      process.kill(pid, sig);
      return true;
    } catch {
      return false;
    }
  };
  const bump = (c: Record<string, number>, k: string) => {
    c[k] = (c[k] ?? 0) + 1;
  };

  /** The runs' own TMPDIR: what a run leaves there (gate fifos, env files) is checked after each round. */
  const tmp = join(dir.path, "tmp");
  mkdirSync(tmp);
  const leftInTmp = () => readdirSync(tmp).filter((f) => f.startsWith("kopi-docka-"));

  const cli = (args: string[]) =>
    runner.run([...SOURCE_CLI, ...args, "--config", config], {
      check: false,
      env: { NO_COLOR: "1", CI: "true", KOPI_DOCKA_CONFIG: undefined, TMPDIR: tmp },
      timeoutMs: 120_000,
    });

  /** Starts `backup` without waiting; returns its pid (from the runner's registry) and its result. */
  async function startBackup(): Promise<{ pid: number; result: Promise<RunResult> }> {
    const result = cli(["backup", "--unit", name]);
    const child = runningChildren().find((c) => c.argv.includes(config) && c.argv.includes("backup"));
    if (!child) throw new Error("backup not tracked");
    return { pid: child.pid, result };
  }

  async function running(): Promise<boolean> {
    return (
      (await run(["docker", "inspect", "--format", "{{.State.Running}}", name])).stdout.trim() === "true"
    );
  }

  async function assertClean(pid: number, label: string): Promise<void> {
    expect({ label, running: await running() }).toEqual({ label, running: true });
    // Children may take a moment to be reaped after our exit; kopia itself is gone before we exit.
    const left = await processesLeftBy(pid, dir.path);
    expect({ label, left }).toEqual({ label, left: [] });
    // Nothing is recorded or stopped after a signal, and every restart clears its entry (after SIGKILL,
    // `recover` ran first): the journal is empty.
    const journal = readdirSync(join(dir.path, "state", "journal"));
    expect({ label, journal }).toEqual({ label, journal: [] });
    // A signalled run removed its temp dirs itself; a SIGKILLed one's were removed by `recover`.
    expect({ label, tmp: leftInTmp() }).toEqual({ label, tmp: [] });
  }

  /**
   * One round: a backup signalled at a random moment of the window. A run that finished before its
   * signal counts for nothing and narrows the window to its own duration, so on a loaded machine (where
   * runs are slow and uneven) the rounds still land in real runs instead of after them.
   */
  async function signalledRun(sig: NodeJS.Signals): Promise<{ pid: number; r: RunResult; hit: boolean }> {
    const started = Date.now();
    const { pid, result } = await startBackup();
    await Bun.sleep(Math.random() * backupMs);
    const sent = send(pid, sig);
    const r = await result;
    const hit = sent && r.exitCode !== 0;
    if (!hit) backupMs = Math.max(300, Math.min(backupMs, (Date.now() - started) * 0.9));
    return { pid, r, hit };
  }

  const runIds = () =>
    new Set(readdirSync(join(dir.path, "state", "runs")).map((f) => f.replace(/\.json$/, "")));

  /** Run records written since `before`: after a signal, each is marked interrupted by it, never "ok". */
  function checkRecords(before: Set<string>, sig: string, c: Record<string, number>, label: string): void {
    const fresh = [...runIds()].filter((id) => !before.has(id));
    if (fresh.length === 0) bump(c, "no_record_signal_before_lock");
    for (const id of fresh) {
      const rec = JSON.parse(readFileSync(join(dir.path, "state", "runs", `${id}.json`), "utf8"));
      if (rec.interrupted === undefined) {
        // The run had written its complete record before the signal came (during exit).
        bump(c, "record_complete_before_signal");
        continue;
      }
      bump(c, "record_interrupted");
      expect({ label, interrupted: rec.interrupted, ok: rec.status === "ok" }).toEqual({
        label,
        interrupted: sig,
        ok: false,
      });
    }
  }

  beforeAll(async () => {
    config = writeTestConfig(dir.path);
    await startContainer(name, volume, [], WRITE_AND_QUICK_STOP);
    const first = await cli(["backup", "--unit", name]);
    expect(first.exitCode).toBe(0);
    // Signals land anywhere from start-up to the end of an incremental backup (the quicker of two: the
    // first incremental one may carry one-off work, and a too long window lets most runs finish first).
    const timed: number[] = [];
    for (let i = 0; i < 2; i++) {
      const t = Date.now();
      expect((await cli(["backup", "--unit", name])).exitCode).toBe(0);
      timed.push(Date.now() - t);
    }
    backupMs = Math.max(Math.min(...timed), 500);
    console.log(`fault injection: incremental backup ${timed.join(", ")} ms; signals within ${backupMs} ms`);
  }, 120_000);

  afterAll(async () => {
    console.log(`fault injection counts: ${JSON.stringify(counts)}`);
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    test(`${ROUNDS[sig]}× ${sig} at random moments: containers running, no child left, lock free, next backup fine`, async () => {
      const status = sig === "SIGINT" ? 130 : 143;
      const c: Record<string, number> = {
        signalled: 0,
        exit_signal: 0,
        exit_0_finished_first: 0,
        followup_ok: 0,
      };
      counts[sig] = c;
      // At least ROUNDS[sig] signals that hit a running backup; runs that finished first are extra rounds.
      for (let i = 0; (c.signalled ?? 0) < ROUNDS[sig] && i < 3 * ROUNDS[sig]; i++) {
        const before = runIds();
        const { pid, r, hit } = await signalledRun(sig);
        if (hit) bump(c, "signalled");
        // A signal in the first milliseconds, before the handlers exist, kills bun itself: nothing was done yet.
        const outcome =
          r.exitCode === status
            ? "exit_signal"
            : r.exitCode === 0
              ? "exit_0_finished_first"
              : r.exitCode === null && r.signal === sig
                ? "killed_before_handlers"
                : `unexpected exit ${r.exitCode ?? r.signal}: ${r.stderr}`;
        // The whole outcome string is the message when this fails: it carries the exit code and stderr.
        if (outcome.startsWith("unexpected"))
          expect(`${sig} #${i}: ${outcome}`).toBe(`${sig} #${i}: a signal exit`);
        bump(c, outcome);
        if (outcome === "exit_signal") checkRecords(before, sig, c, `${sig} #${i}`);
        await assertClean(pid, `${sig} #${i}`);
        expect(existsSync(join(dir.path, "kopi-docka.lock"))).toBe(false);
        if (i % 6 === 5) {
          const next = await cli(["backup", "--unit", name]);
          expect({ i, next: next.exitCode, err: next.exitCode ? next.stderr : "" }).toEqual({
            i,
            next: 0,
            err: "",
          });
          bump(c, "followup_ok");
        }
      }
      expect(c.signalled).toBe(ROUNDS[sig]);
      // Most signals land after start-up, so the handlers (not bun's default action) are what is tested.
      expect(c.exit_signal ?? 0).toBeGreaterThan(ROUNDS[sig] / 2);
      const next = await cli(["backup", "--unit", name]);
      expect({ next: next.exitCode, err: next.exitCode ? next.stderr : "" }).toEqual({ next: 0, err: "" });
      bump(c, "followup_ok");
    }, 900_000);
  }

  test("SIGKILL while the snapshots wait at their gates: `recover` removes the dead run's temp dirs", async () => {
    const { pid, result } = await startBackup();
    let gates: string[] = [];
    for (const deadline = Date.now() + 60_000; gates.length === 0 && Date.now() < deadline; ) {
      gates = leftInTmp().filter((f) => f.startsWith("kopi-docka-gates-"));
      await Bun.sleep(2);
    }
    expect(gates).toHaveLength(1);
    send(pid, "SIGKILL");
    expect((await result).signal).toBe("SIGKILL");
    // No compensation ran: the gate fifos are still there.
    expect(leftInTmp()).toContain(gates[0] ?? "");
    const rec = await cli(["recover"]);
    expect({ exit: rec.exitCode, err: rec.exitCode ? rec.stderr : "" }).toEqual({ exit: 0, err: "" });
    expect(rec.stderr).toContain("temp dir(s) left by dead runs");
    await assertClean(pid, "SIGKILL at the gates");
  }, 180_000);

  test(`${ROUNDS.SIGKILL}× SIGKILL: after \`kopi-docka recover\` the container runs again, nothing is left`, async () => {
    const c: Record<string, number> = {
      killed: 0,
      recovered_started: 0,
      recover_nothing_to_do: 0,
      followup_ok: 0,
    };
    counts.SIGKILL = c;
    for (let i = 0; (c.killed ?? 0) < ROUNDS.SIGKILL && i < 3 * ROUNDS.SIGKILL; i++) {
      const { pid, hit } = await signalledRun("SIGKILL");
      if (hit) bump(c, "killed");
      const rec = await cli(["recover", "--json"]);
      expect({ i, exit: rec.exitCode, err: rec.exitCode ? rec.stderr : "" }).toEqual({ i, exit: 0, err: "" });
      const out = JSON.parse(rec.stdout);
      bump(c, out.started.length > 0 ? "recovered_started" : "recover_nothing_to_do");
      await assertClean(pid, `SIGKILL #${i}`);
      if (i % 5 === 4) {
        // The dead run's lock is stale: the next backup takes it over.
        const next = await cli(["backup", "--unit", name]);
        expect({ i, next: next.exitCode, err: next.exitCode ? next.stderr : "" }).toEqual({
          i,
          next: 0,
          err: "",
        });
        bump(c, "followup_ok");
      }
    }
    expect(c.killed).toBe(ROUNDS.SIGKILL);
  }, 900_000);

  test("interrupted snapshots are recorded as incomplete, and no successful run record claims them", async () => {
    const password = readFileSync(join(dir.path, "repository.password"), "utf8").trim();
    const r = await run(
      [
        "kopia",
        "snapshot",
        "list",
        "--all",
        "--json",
        "--config-file",
        join(dir.path, "state", "kopia", "repository.config"),
      ],
      { env: { KOPIA_PASSWORD: password, KOPIA_CHECK_FOR_UPDATES: "false" } },
    );
    const snaps = JSON.parse(r.stdout) as { incomplete?: string; tags?: Record<string, string> }[];
    const incomplete = snaps.filter((s) => s.incomplete);
    const runs = new Map<string, { status?: string }>();
    for (const f of readdirSync(join(dir.path, "state", "runs"))) {
      const rec = JSON.parse(readFileSync(join(dir.path, "state", "runs", f), "utf8"));
      runs.set(f.replace(/\.json$/, ""), rec);
    }
    counts.snapshots = { total: snaps.length, incomplete: incomplete.length, runRecords: runs.size };
    for (const s of incomplete) {
      const runId = s.tags?.["tag:run_id"] ?? s.tags?.run_id;
      expect({
        runId,
        status: runId ? (runs.get(runId)?.status ?? "no record") : "untagged",
      }).not.toMatchObject({
        status: "ok",
      });
    }
  }, 60_000);
});
