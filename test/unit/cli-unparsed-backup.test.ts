import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { main } from "../../src/cli.ts";
import { configFlag } from "../../src/commands/_unparsed-backup.ts";
import { atTerminal, isInteractive } from "../../src/ui/interactive.ts";
import { tempDir, writeTestConfig } from "../helpers/env.ts";
import { pathRecorder } from "../helpers/receivers.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A loopback receiver (heartbeat at /hc, json:// target at /hook), stopped after the test. */
function receiver() {
  const r = pathRecorder();
  cleanups.push(r.stop);
  return r;
}

/** A config under a temp dir whose heartbeat and one failure target are the receiver. */
function host() {
  const hc = receiver();
  const t = tempDir("kd-unparsed-backup-");
  cleanups.push(() => t.remove());
  const config = writeTestConfig(
    t.path,
    `[alerts]\ntimeout = 2\nping_url = "http://127.0.0.1:${hc.port}/hc"\n` +
      `[[alerts.notify]]\nurl = "json://127.0.0.1:${hc.port}/hook"\nlevel = "failure"\n`,
  );
  const paths = ["/hc/start", "/hc/2", "/hook"].map((p) => `POST ${p}`);
  const alert = () => JSON.parse(hc.got.find((g) => g.path === "POST /hook")?.body ?? "{}");
  return { hc, config, runsDir: join(t.path, "state", "runs"), paths, alert };
}

/** stdin, stdout and stderr as terminals or not, and CI set or not, until the test ends. */
function terminal(tty: { stdin: boolean; stdout: boolean; stderr: boolean }, ci: string | undefined) {
  for (const name of ["stdin", "stdout", "stderr"] as const) {
    const stream = process[name];
    const before = Object.getOwnPropertyDescriptor(stream, "isTTY");
    Object.defineProperty(stream, "isTTY", { value: tty[name], configurable: true, writable: true });
    cleanups.push(() => {
      if (before) Object.defineProperty(stream, "isTTY", before);
      else delete (stream as { isTTY?: boolean }).isTTY;
    });
  }
  const ciBefore = process.env.CI;
  if (ci === undefined) delete process.env.CI;
  else process.env.CI = ci;
  cleanups.push(() => {
    if (ciBefore === undefined) delete process.env.CI;
    else process.env.CI = ciBefore;
  });
}
const noTerminal = () => terminal({ stdin: false, stdout: false, stderr: false }, undefined);

/** Runs the CLI with `argv`: its exit status and what it wrote to stderr. */
async function run(argv: string[]) {
  const err: string[] = [];
  const spy = spyOn(process.stderr, "write").mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  try {
    return { status: await main(argv), stderr: err.join("") };
  } finally {
    spy.mockRestore();
  }
}

describe("backup's command line that does not parse, with nobody at a terminal: the failure alert", () => {
  test("an unknown flag: exit 2, start, the alert naming the flag (no other flag's value), /2; no run record", async () => {
    const h = host();
    noTerminal();
    const r = await run(["backup", "--config", h.config, "--unit", "s3cret-word", "--scpe", "minimal"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("kopi-docka: unknown option --scpe for `kopi-docka backup`");
    expect(h.hc.got.map((g) => g.path).toSorted()).toEqual(h.paths.toSorted());
    const order = h.hc.got.map((g) => g.path);
    expect(order.indexOf("POST /hc/start")).toBeLessThan(order.indexOf("POST /hc/2"));
    const alert = h.alert();
    expect(alert.title).toBe("kopi-docka kd-test-host: backup NOT started (the command line is wrong)");
    expect(alert.body).toContain("no container was stopped");
    expect(alert.body).toContain("unknown option --scpe for `kopi-docka backup`");
    expect(alert.body).toContain("next: valid options: --config, ");
    expect(alert).toMatchObject({ code: "usage", exitCode: 2, severity: "failure" });
    const sent = JSON.stringify(h.hc.got);
    expect(sent).not.toContain("s3cret-word");
    expect(sent).not.toContain("minimal");
    expect(existsSync(h.runsDir)).toBe(false);
  });

  test("a value citty refuses (`--scope=weird`, `--config=` spelled with =): the alert quotes citty's error", async () => {
    const h = host();
    noTerminal();
    const r = await run(["backup", `--config=${h.config}`, "--scope=weird"]);
    expect(r.status).toBe(2);
    expect(h.hc.got.map((g) => g.path).toSorted()).toEqual(h.paths.toSorted());
    // The refused value is hidden like any other: a value is no scope of ours, and may be anything.
    expect(h.alert().body).toContain("Invalid value for argument: --scope (…)");
    expect(h.alert().body).not.toContain("weird");
    expect(h.alert().body).not.toContain("\x1b");
  });

  test("a stray word the parse error quotes whole (an env assignment after the command, -pVALUE) is not sent", async () => {
    for (const stray of ["KOPIA_PASSWORD=hunter2", "-phunter2"]) {
      const h = host();
      noTerminal();
      const r = await run(["backup", "--config", h.config, stray]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("hunter2"); // the person at the journal sees what they typed
      expect(h.hc.got.map((g) => g.path).toSorted()).toEqual(h.paths.toSorted());
      expect(h.alert().code).toBe("usage");
      expect(JSON.stringify(h.hc.got)).not.toContain("hunter2");
    }
  });

  test("`--dry-run=false` with a typo is a real run's typo: alerted", async () => {
    const h = host();
    noTerminal();
    expect((await run(["backup", "--dry-run=false", "--config", h.config, "--scpe", "minimal"])).status).toBe(
      2,
    );
    expect(h.hc.got.map((g) => g.path).toSorted()).toEqual(h.paths.toSorted());
  });

  test("`--config` that names no one file (`--config` of an unset variable): nothing goes to the default config's targets", async () => {
    const h = host();
    noTerminal();
    const before = process.env.KOPI_DOCKA_CONFIG;
    process.env.KOPI_DOCKA_CONFIG = h.config; // the config a run without --config would read
    try {
      for (const argv of [
        ["backup", "--scpe", "minimal", "--config"],
        ["backup", "--config", "--scpe", "minimal"],
        ["backup", "--config", h.config, "--config", h.config, "--scpe", "minimal"],
      ])
        expect((await run(argv)).status).toBe(2);
    } finally {
      if (before === undefined) delete process.env.KOPI_DOCKA_CONFIG;
      else process.env.KOPI_DOCKA_CONFIG = before;
    }
    expect(h.hc.got).toEqual([]);
  });

  test("at a terminal with stdout piped (`backup | tee log`): the person sees it, nothing is sent", async () => {
    const h = host();
    terminal({ stdin: true, stdout: false, stderr: true }, undefined);
    const r = await run(["backup", "--config", h.config, "--scpe", "minimal"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown option --scpe");
    expect(h.hc.got).toEqual([]);
  });

  test("nothing is sent where the command would have sent nothing: a dry run; a config that does not load", async () => {
    const h = host();
    noTerminal();
    const dry = await run(["backup", "--dry-run", "--config", h.config, "--scpe", "minimal"]);
    expect(dry.status).toBe(2);
    const gone = await run(["backup", "--config", `${h.config}.gone`, "--scpe", "minimal"]);
    expect(gone.status).toBe(2);
    expect(gone.stderr).toBe(
      "kopi-docka: unknown option --scpe for `kopi-docka backup`\n" +
        `  hint: valid options: --config, --verbose, --quiet, --json, --dry-run, --unit, --scope, --wait\n`,
    );
    expect(h.hc.got).toEqual([]);
  });

  test("another command's typo is not a backup's: nothing is sent", async () => {
    const h = host();
    noTerminal();
    expect((await run(["history", "--config", h.config, "--scpe"])).status).toBe(2);
    expect(h.hc.got).toEqual([]);
  });
});

describe("configFlag: --config only when argv says it once, with a value", () => {
  test.each([
    [["--config", "/a.toml", "--scpe"], "/a.toml"],
    [["--scpe", "--config=/b.toml"], "/b.toml"],
    [["--config", "/a.toml", "--config", "/b.toml"], undefined],
    [["--config"], undefined],
    [["--config", "--scpe"], undefined],
    [["--config="], undefined],
    [["--scpe", "--", "--config", "/a.toml"], undefined],
  ])("%j → %p", (argv, want) => {
    expect(configFlag(argv)).toBe(want);
  });
});

describe("atTerminal: where a person reads errors, for the alerting decision; prompts keep isInteractive", () => {
  test("stdout piped at a terminal: a person is there, but no prompt may draw into stdout", () => {
    terminal({ stdin: true, stdout: false, stderr: true }, undefined);
    expect(atTerminal()).toBe(true);
    expect(isInteractive()).toBe(false);
  });
  test("a timer or cron (no terminal), stderr redirected, or CI: nobody there", () => {
    terminal({ stdin: false, stdout: false, stderr: false }, undefined);
    expect(atTerminal()).toBe(false);
    terminal({ stdin: true, stdout: true, stderr: false }, undefined);
    expect(atTerminal()).toBe(false);
    terminal({ stdin: true, stdout: true, stderr: true }, "true");
    expect(atTerminal()).toBe(false);
  });
});
