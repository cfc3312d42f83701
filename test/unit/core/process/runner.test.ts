import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppError, ProcessError } from "../../../../src/core/errors.ts";
import { runningChildren } from "../../../../src/core/process/children.ts";
import { createBunRunner } from "../../../../src/core/process/runner.ts";

/** Alive = exists and is not a zombie (PID 1 here may be slow to reap orphans). */
function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

// The runner itself is under test here, so these spawn real (tiny) processes: sh, sleep, cat.
const runner = createBunRunner();

describe("runner", () => {
  test("captures stdout, stderr and the exit code", async () => {
    const r = await runner.run(["sh", "-c", "echo out; echo err >&2; exit 3"], { check: false });
    expect(r).toMatchObject({
      exitCode: 3,
      stdout: "out\n",
      stderr: "err\n",
      timedOut: false,
      aborted: false,
    });
  });

  test("a non-zero exit throws a ProcessError with argv, code and stderr tail", async () => {
    const err = await runner.run(["sh", "-c", "echo boom >&2; exit 7"]).catch((e) => e);
    expect(err).toBeInstanceOf(ProcessError);
    expect(err).toMatchObject({
      argv: ["sh", "-c", "echo boom >&2; exit 7"],
      exitCode: 7,
      stderrTail: "boom\n",
    });
    expect(err.message).toContain("exited with code 7: boom");
  });

  test("okExitCodes widens success", async () => {
    const r = await runner.run(["sh", "-c", "exit 1"], { okExitCodes: [0, 1] });
    expect(r.exitCode).toBe(1);
  });

  test("passes env (secrets travel here, never in argv) and can remove inherited variables", async () => {
    process.env.KD_TEST_INHERITED = "yes";
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    const r = await runner.run(["sh", "-c", 'echo "$KD_SECRET:${KD_TEST_INHERITED:-gone}"'], {
      env: { KD_SECRET: "s3cr3t", KD_TEST_INHERITED: undefined },
    });
    expect(r.stdout).toBe("s3cr3t:gone\n");
    delete process.env.KD_TEST_INHERITED;
  });

  test("feeds stdin", async () => {
    const r = await runner.run(["cat"], { stdin: "line one\nline two" });
    expect(r.stdout).toBe("line one\nline two");
  });

  test("streams lines as they are produced", async () => {
    const seen: { line: string; at: number }[] = [];
    const start = performance.now();
    await runner.run(["sh", "-c", "echo a; sleep 0.3; echo b; sleep 0.3; printf c"], {
      onStdoutLine: (line) => seen.push({ line, at: performance.now() - start }),
    });
    expect(seen.map((s) => s.line)).toEqual(["a", "b", "c"]);
    // "a" arrives well before the process ends (~600 ms)
    expect(seen[0]?.at ?? 1e9).toBeLessThan(seen[2]?.at ?? 0);
    expect((seen[2]?.at ?? 0) - (seen[0]?.at ?? 0)).toBeGreaterThan(400);
  });

  test("streams stderr lines too", async () => {
    const lines: string[] = [];
    const r = await runner.run(["sh", "-c", "echo x >&2; echo y >&2"], {
      onStderrLine: (l) => lines.push(l),
    });
    expect(lines).toEqual(["x", "y"]);
    expect(r.stderr).toBe("x\ny\n");
  });

  test("a timeout kills the child and reports it", async () => {
    const start = performance.now();
    const err = await runner.run(["sleep", "30"], { timeoutMs: 200 }).catch((e) => e);
    expect(performance.now() - start).toBeLessThan(5000);
    expect(err).toBeInstanceOf(ProcessError);
    expect(err.timedOut).toBe(true);
    expect(err.message).toContain("timed out");
  });

  test("a child that ignores SIGTERM is killed after the grace period", async () => {
    const r = await runner.run(["sh", "-c", "trap '' TERM; sleep 30 & wait; sleep 30"], {
      timeoutMs: 100,
      killGraceMs: 300,
      check: false,
    });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe("SIGKILL");
  });

  test("aborting the signal kills the child, grandchildren included", async () => {
    const ac = new AbortController();
    const pending = runner.run(["sh", "-c", "sleep 30 & echo $!; wait"], {
      signal: ac.signal,
      check: false,
      onStdoutLine: () => ac.abort(),
    });
    const r = await pending;
    expect(r.aborted).toBe(true);
    const grandchild = Number(r.stdout.trim());
    await Bun.sleep(100);
    expect(isAlive(grandchild)).toBe(false);
  });

  test("an already-aborted signal kills at once", async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await runner.run(["sleep", "30"], { signal: ac.signal, check: false });
    expect(r.aborted).toBe(true);
  });

  test("a missing executable is a dependency error naming it", async () => {
    const err = await runner.run(["kd-no-such-binary-xyz"]).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe("dependency_missing");
    expect(err.message).toContain("kd-no-such-binary-xyz");
  });

  test("running children are tracked while they run, and only then", async () => {
    const pending = runner.run(["sleep", "0.5"]);
    await Bun.sleep(100);
    expect(runningChildren().some((c) => c.argv[0] === "sleep")).toBe(true);
    await pending;
    expect(runningChildren().some((c) => c.argv[0] === "sleep")).toBe(false);
  });

  test("onSpawn sees every argv (discovery counts docker calls with it)", async () => {
    const seen: string[][] = [];
    const counting = createBunRunner({ onSpawn: (a) => seen.push([...a]) });
    await counting.run(["true"]);
    await counting.run(["sh", "-c", "exit 0"]);
    expect(seen).toEqual([["true"], ["sh", "-c", "exit 0"]]);
  });

  test.each([
    [["sh", "-c", "exit 3", "--requirepass", "s3cret"], "--requirepass ***REDACTED***"],
    [
      ["sh", "-c", "exit 3", "x", "DATABASE_URL=postgres://u:s3cret@h/db"],
      "postgres://u:***REDACTED***@h/db",
    ],
    [["sh", "-c", "exit 3", "x", "o=addr=nas,password=s3cret"], "o=addr=nas,password=***REDACTED***"],
  ])("--verbose's command log and the error mask secrets in %j", async (argv, masked) => {
    const logged: string[] = [];
    const verbose = createBunRunner({ debug: (m) => logged.push(m) });
    const err: ProcessError = await verbose.run(argv).catch((e) => e);
    for (const text of [logged.join("\n"), err.message, err.argv.join(" ")]) {
      expect(text).toContain(masked);
      expect(text).not.toContain("s3cret");
    }
  });

  test("a secret the child echoes to stderr is masked in the error too", async () => {
    const err: ProcessError = await runner
      .run(["sh", "-c", "echo 'cannot connect to postgres://u:s3cret@h/db' >&2; exit 1"])
      .catch((e) => e);
    expect(err.message).toContain("postgres://u:***REDACTED***@h/db");
    expect(`${err.message}${err.stderrTail}`).not.toContain("s3cret");
  });
});

test("stdio inherit: the child writes to our own stdout/stderr (nothing collected), stays in our process group, exit code returned", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kd-inherit-"));
  try {
    const out = join(dir, "out");
    // a child of this test process with our fds redirected to a file: what the inheriting grandchild writes lands there
    const script = `const { createBunRunner } = await import(${JSON.stringify(join(import.meta.dir, "../../../../src/core/process/runner.ts"))});
const r = await createBunRunner().run(["sh", "-c", "echo to-stdout; echo to-stderr >&2; echo $(ps -o pgid= -p $$) $(ps -o pgid= -p $PPID) > ${join(dir, "pgid")}; exit 3"], { stdio: "inherit", check: false });
console.log(JSON.stringify({ exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }));`;
    writeFileSync(join(dir, "s.ts"), script);
    const p = Bun.spawnSync(["sh", "-c", `"${process.execPath}" ${join(dir, "s.ts")} > ${out} 2>&1`]);
    expect(p.exitCode).toBe(0);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines.slice(0, 2).sort()).toEqual(["to-stderr", "to-stdout"]);
    const r = JSON.parse(lines[2] ?? "{}");
    expect(r).toMatchObject({ exitCode: 3, stdout: "", stderr: "" });
    // the same group as the runner's process: it may read the terminal and gets its Ctrl+C
    const [child, parent] = readFileSync(join(dir, "pgid"), "utf8").trim().split(/\s+/);
    expect(child).toMatch(/^\d+$/);
    expect(child).toBe(parent as string);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
