// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { cliArgv, runCli } from "../helpers/cli.ts";
import {
  describeReal,
  run,
  runTestContainer,
  startContainer,
  tempDir,
  uniqueName,
  writeTestConfig,
} from "../helpers/env.ts";
import { blackHole, httpRecorder, parsePrometheus, smtpSink, testCa } from "../helpers/receivers.ts";
import { inspectState } from "../integration/backup-helpers.ts";

/**
 * The whole alert path on real backups (real docker, real kopia, temp repository): receivers on
 * loopback record what arrives. Secrets live in the environment and a 0600 file only; the test checks
 * they never show up in a message, a log line or a file other than the secret file.
 */
describeReal(
  "alerts: notifications, heartbeat, missed backups, textfile",
  ["docker", "kopia", "image"],
  () => {
    const dir = tempDir("kdt-alerts-");
    const hookSecret = `hook-${crypto.randomUUID()}`;
    const mailPassword = `mail-${crypto.randomUUID()}`;
    const pingSecret = `ping-${crypto.randomUUID()}`;
    const ok = uniqueName("kdtal-ok");
    const refusing = uniqueName("kdtal-hook");
    const env = { HOOK_SECRET: hookSecret, KOPI_DOCKA_TEST_SOURCE: process.env.KOPI_DOCKA_TEST_SOURCE };
    const kd = join(dir.path, "kd");
    const textfile = join(dir.path, "prom", "kopi_docka.prom");
    let http: ReturnType<typeof httpRecorder>;
    let https: ReturnType<typeof httpRecorder>;
    let smtp: Awaited<ReturnType<typeof smtpSink>>;
    let caFile = "";
    let config = "";
    const containers: string[] = [];
    const volumes: string[] = [];

    const configText = (extra = "", timeout = 5) => `[backup]
stop_timeout = 5
start_timeout = 20

[units.${refusing}]
pre_backup = "${join(dir.path, "refuse.sh")}"

[alerts]
ping_url = "http://127.0.0.1:${http.port}/ping/${pingSecret}"
max_age_hours = 26
timeout = ${timeout}
ca_file = "${caFile}"

[[alerts.notify]]
url = "json://127.0.0.1:${http.port}/hook/\${HOOK_SECRET}"
level = "always"

[[alerts.notify]]
url_file = "${join(dir.path, "mail.url")}"
level = "failure"

[[alerts.notify]]
url = "ntfys://127.0.0.1:${https.port}/kd-topic"
level = "always"

[metrics]
textfile = "${textfile}"
${extra}`;

    const hooks = () => http.requests.filter((r) => r.path.startsWith("/hook/"));
    const pings = () => http.requests.filter((r) => r.path.startsWith("/ping/"));
    const lastJson = () => JSON.parse(hooks().at(-1)?.body ?? "{}");
    const reset = () => {
      http.requests.length = 0;
      https.requests.length = 0;
      smtp.mails.length = 0;
    };
    const backup = (units: string[], cfg = config) =>
      runCli(["backup", "--config", cfg, ...units.flatMap((u) => ["--unit", u])], { env });
    const runsDir = join(kd, "state", "runs");
    const records = () =>
      readdirSync(runsDir)
        .filter((n) => n.endsWith(".json"))
        .sort()
        .map((n) => JSON.parse(readFileSync(join(runsDir, n), "utf8")));
    /** What the receivers were sent, less the request line (the URL is where a secret is meant to go). */
    const sentText = () =>
      JSON.stringify([...http.requests, ...https.requests].map((r) => [r.body, r.headers.title]));
    /** Every secret must stay out of what a person or another program can read. */
    const assertNoSecret = (...texts: string[]) => {
      for (const t of texts)
        for (const s of [
          hookSecret,
          mailPassword,
          pingSecret,
          existsSync(join(kd, "repository.password"))
            ? readFileSync(join(kd, "repository.password"), "utf8").trim()
            : hookSecret,
        ])
          expect(t).not.toContain(s);
    };

    /** A pre-flight failure's alert: nothing was stopped, said to every kind of target, with no secret. */
    const expectPreflightAlert = (exitCode: number, stderr: string) => {
      expect(lastJson().body).toContain("no container was stopped");
      expect(smtp.mails.at(-1)?.data).toContain("backup NOT started");
      expect(pings().at(-1)?.path).toBe(`/ping/${pingSecret}/${exitCode}`);
      assertNoSecret(stderr, sentText(), smtp.mails.at(-1)?.data ?? "");
    };
    /**
     * Runs `body` with the repository password file holding `text` (or gone) and no kopia config (the
     * next run connects again), then puts both back.
     */
    const withPasswordFile = async (text: string | undefined, body: () => Promise<void>) => {
      const pw = join(kd, "repository.password");
      const real = readFileSync(pw, "utf8");
      const kopia = join(kd, "state", "kopia");
      renameSync(kopia, `${kopia}.keep`);
      if (text === undefined) await run(["rm", "-f", pw]);
      else {
        writeFileSync(pw, text);
        chmodSync(pw, 0o600);
      }
      try {
        reset();
        await body();
      } finally {
        writeFileSync(pw, real, { mode: 0o600 });
        await run(["rm", "-rf", kopia]);
        renameSync(`${kopia}.keep`, kopia);
      }
    };

    beforeAll(async () => {
      const tls = await testCa(dir.path);
      caFile = tls.caFile;
      http = httpRecorder();
      https = httpRecorder(tls);
      smtp = await smtpSink(tls, false, mailPassword);
      writeFileSync(
        join(dir.path, "mail.url"),
        `mailto://kd%40example.org:${encodeURIComponent(mailPassword)}@localhost:${smtp.port}?to=ops@example.org`,
        { mode: 0o600 },
      );
      writeFileSync(join(dir.path, "refuse.sh"), "#!/bin/sh\necho refusing >&2\nexit 7\n", { mode: 0o755 });
      config = writeTestConfig(kd, configText());
      for (const name of [ok, refusing]) {
        volumes.push(`${name}-v`);
        await startContainer(name, `${name}-v`);
        containers.push(name);
        await run(["docker", "exec", name, "sh", "-c", "echo data > /data/f.txt"]);
      }
    });

    afterAll(async () => {
      http?.stop();
      https?.stop();
      smtp?.stop();
      await run(["docker", "rm", "-f", ...containers], { check: false });
      await run(["docker", "volume", "rm", "-f", ...volumes], { check: false });
      dir.remove();
    });

    test("success: one report to the 'always' targets (json, ntfys over TLS with the given CA), heartbeat start + success, textfile equals the record", async () => {
      reset();
      const r = await backup([ok]);
      expect(r.exitCode).toBe(0);
      const body = lastJson();
      expect(hooks()).toHaveLength(1);
      expect(body).toMatchObject({ event: "run", severity: "info", status: "ok", exitCode: 0, unitsOk: 1 });
      expect(body.units[0]).toMatchObject({ name: ok, status: "ok" });
      expect(body.units[0].bytes).toBeGreaterThan(0);
      expect(hooks()[0]?.headers["content-type"]).toBe("application/json");
      expect(https.requests).toHaveLength(1);
      expect(https.requests[0]).toMatchObject({ method: "POST", path: "/kd-topic" });
      expect(https.requests[0]?.headers.title).toContain("backup OK: 1 of 1 units");
      expect(smtp.mails).toHaveLength(0); // the mail target wants failures only
      expect(pings().map((p) => `${p.method} ${p.path}`)).toEqual([
        `POST /ping/${pingSecret}/start`,
        `POST /ping/${pingSecret}`,
      ]);

      const record = records().at(-1);
      const unit = record.units[0];
      const m = await parsePrometheus(textfile);
      const l = `{unit="${ok}"}`;
      expect(m[`kopi_docka_last_run_status${l}`]).toBe(0);
      expect(m[`kopi_docka_backup_bytes${l}`]).toBe(unit.bytes);
      expect(m[`kopi_docka_backup_duration_seconds${l}`]).toBe(unit.durationMs / 1000);
      expect(m[`kopi_docka_cold_window_seconds${l}`]).toBe(unit.coldWindowMs / 1000);
      expect(m[`kopi_docka_frozen_window_seconds${l}`]).toBe(unit.frozenWindowMs / 1000);
      expect(m[`kopi_docka_backup_files${l}`]).toBe(
        unit.sources.reduce((n: number, s: { files?: number }) => n + (s.files ?? 0), 0),
      );
      expect(m[`kopi_docka_last_success_timestamp_seconds${l}`]).toBe(Date.parse(record.finishedAt) / 1000);
      expect(m.kopi_docka_run_timestamp_seconds).toBe(Date.parse(record.finishedAt) / 1000);
      expect(m['kopi_docka_units{status="ok"}']).toBe(1);
      expect(m.kopi_docka_repository_snapshots).toBeGreaterThan(0);
      assertNoSecret(
        r.stdout,
        r.stderr,
        readFileSync(textfile, "utf8"),
        sentText(),
        JSON.stringify(records()),
      );
    });

    test("doctor: each target and the heartbeat reachable, textfile directory, each unit's backup age; a dead target warns", async () => {
      const r = await runCli(["doctor", "--config", config, "--json"], { env });
      const checks = JSON.parse(r.stdout).checks as { id: string; status: string; detail: string }[];
      const notify = checks.filter((c) => c.id === "notify");
      expect(notify.map((c) => c.status)).toEqual(["ok", "ok", "ok"]);
      expect(notify.map((c) => c.detail).join(" ")).toContain("mailto://kd@example.org:***@localhost");
      expect(checks.find((c) => c.id === "ping")).toMatchObject({ status: "ok" });
      expect(checks.find((c) => c.id === "metrics")).toMatchObject({ status: "ok" });
      expect(checks.find((c) => c.id === "freshness" && c.detail.startsWith(ok))?.status).toBe("ok");
      assertNoSecret(r.stdout, r.stderr);
      const dead = writeTestConfig(
        join(dir.path, "kd-dead"),
        `[[alerts.notify]]\nurl = "ntfy://127.0.0.1:1/t"\n`,
      );
      const d = await runCli(["doctor", "--config", dead, "--json"], { env });
      const c = (JSON.parse(d.stdout).checks as { id: string; status: string }[]).find(
        (x) => x.id === "notify",
      );
      expect(c?.status).toBe("warn");
    });

    test("notify test --url: SMTP over TLS from the first byte (mailtos), ${MAIL_PW} from the environment; a result per target", async () => {
      const tlsSink = await smtpSink(
        {
          key: readFileSync(join(dir.path, "srv.key"), "utf8"),
          cert: readFileSync(join(dir.path, "srv.pem"), "utf8"),
        },
        true,
        mailPassword,
      );
      try {
        const url = `mailtos://kd%40example.org:\${MAIL_PW}@localhost:${tlsSink.port}?to=ops@example.org`;
        const r = await runCli(["notify", "test", "--config", config, "--url", url], {
          env: { ...env, MAIL_PW: mailPassword },
        });
        expect(r.exitCode).toBe(0);
        expect(r.stdout).toContain(`mailtos://kd@example.org:***@localhost:${tlsSink.port}`);
        expect(r.stdout).toContain("delivered");
        expect(tlsSink.mails).toHaveLength(1);
        expect(tlsSink.mails[0]).toMatchObject({ secure: true, user: "kd@example.org" });
        expect(tlsSink.mails[0]?.data).toContain("test notification");
        reset();
        const all = await runCli(["notify", "test", "--config", config], { env });
        expect(all.exitCode).toBe(0);
        expect(all.stdout.match(/delivered/g)).toHaveLength(3);
        expect(smtp.mails).toHaveLength(1);
        assertNoSecret(r.stdout, r.stderr, all.stdout, all.stderr);
      } finally {
        tlsSink.stop();
      }
    });

    test("partial failure (exit 3): the report names the failed unit, its reason and next step; mail over STARTTLS with AUTH; heartbeat /3", async () => {
      reset();
      const r = await backup([ok, refusing]);
      expect(r.exitCode).toBe(3);
      const body = lastJson();
      expect(body).toMatchObject({
        event: "run",
        severity: "failure",
        status: "partial",
        exitCode: 3,
        unitsOk: 1,
      });
      const failed = body.units.find((u: { name: string }) => u.name === refusing);
      expect(failed.error.phase).toBe("pre_hook");
      expect(failed.next).toContain("pre_backup hook");
      expect(smtp.mails).toHaveLength(1);
      const mail = smtp.mails[0];
      expect(mail).toMatchObject({ to: ["ops@example.org"], user: "kd@example.org", secure: true });
      expect(mail?.data).toContain("backup FAILED: 1 of 2 units OK");
      expect(mail?.data).toContain(refusing);
      expect(pings().at(-1)).toMatchObject({ method: "POST", path: `/ping/${pingSecret}/3` });
      expect(pings().at(-1)?.body).toContain("backup FAILED");
      const m = await parsePrometheus(textfile);
      expect(m[`kopi_docka_last_run_status{unit="${refusing}"}`]).toBe(1);
      expect(m['kopi_docka_units{status="failed"}']).toBe(1);
      assertNoSecret(r.stderr, mail?.data ?? "", sentText());
    });

    test("missed backup: clock moved through the run records; one alert per episode; a good backup ends the episode", async () => {
      // Age every run record by 30 hours: the units' last good backups are now older than 26 h.
      for (const n of readdirSync(runsDir).filter((x) => x.endsWith(".json"))) {
        const file = join(runsDir, n);
        const rec = JSON.parse(readFileSync(file, "utf8"));
        const back = (iso: string) => new Date(Date.parse(iso) - 30 * 3_600_000).toISOString();
        rec.startedAt = back(rec.startedAt);
        rec.finishedAt = back(rec.finishedAt);
        writeFileSync(file, JSON.stringify(rec));
      }
      reset();
      const first = await runCli(["check-freshness", "--config", config, "--json"], { env });
      expect(first.exitCode).toBe(1);
      const missed = hooks()
        .map((h) => JSON.parse(h.body))
        .filter((b) => b.event === "missed");
      expect(missed).toHaveLength(1);
      expect(missed[0].overdue.map((o: { unit: string }) => o.unit).sort()).toEqual([ok, refusing].sort());
      expect(smtp.mails.filter((m) => m.data.includes("backup MISSED"))).toHaveLength(1);

      reset();
      const second = await runCli(["check-freshness", "--config", config], { env });
      expect(second.exitCode).toBe(1);
      expect(second.stdout).toContain("OVERDUE");
      expect(hooks()).toHaveLength(0); // same episode: no second alert

      reset();
      expect((await backup([ok])).exitCode).toBe(0);
      // The run itself checks too: ok is fresh again, refusing still overdue and already alerted.
      expect(hooks().map((h) => JSON.parse(h.body).event)).toEqual(["run"]);
      const state = JSON.parse(readFileSync(join(kd, "state", "alerts", "missed.json"), "utf8"));
      expect(Object.keys(state.alerted)).toEqual([refusing]);
    });

    test("a target that never answers: same exit code, containers restarted before it was even asked, phase ends within its bound", async () => {
      const hole = await blackHole();
      try {
        const cfg = writeTestConfig(
          join(kd),
          `${configText("", 2)}\n[[alerts.notify]]\nurl = "json://127.0.0.1:${hole.port}/never"\nlevel = "always"\n`,
        );
        reset();
        const t0 = Date.now();
        const r = await backup([ok], cfg);
        const ended = Date.now();
        expect(r.exitCode).toBe(0);
        expect(hole.connectedAt.length).toBeGreaterThan(0);
        const restarted = Date.parse((await inspectState(ok)).StartedAt);
        expect(restarted).toBeGreaterThan(t0);
        expect(restarted).toBeLessThanOrEqual((hole.connectedAt[0] ?? 0) + 50);
        // 2 s bound per target, all in parallel; generous slack for a loaded machine.
        expect(ended - (hole.connectedAt[0] ?? 0)).toBeLessThan(2_000 + 4_000);
        expect(r.stderr).toContain("not delivered to json://127.0.0.1");
        expect(hooks()).toHaveLength(1); // the other targets still got their report
      } finally {
        hole.stop();
        writeTestConfig(kd, configText());
      }
    });

    test("one target that cannot be resolved (its variable unset under the timer): every other target still gets the failure", async () => {
      const cfg = writeTestConfig(
        join(kd),
        `${configText()}\n[[alerts.notify]]\nurl = "ntfy://127.0.0.1:1/\${KD_TOPIC_NOT_SET}"\nlevel = "always"\n`,
      );
      try {
        reset();
        const r = await backup([refusing], cfg);
        expect(r.exitCode).toBe(1); // its only unit failed
        expect(r.stderr).toContain("${KD_TOPIC_NOT_SET} is not set in the environment");
        expect(hooks().map((h) => JSON.parse(h.body).event)).toEqual(["run"]);
        expect(lastJson().body).toContain(refusing);
        expect(smtp.mails.at(-1)?.data).toContain(refusing);
      } finally {
        writeTestConfig(kd, configText());
      }
    });

    /**
     * `backup` at a terminal: a pty for stdin, stdout and stderr (`script`), CI unset; its output as one
     * text. `pipe` is a shell pipeline stdout goes through (`| cat`: the pty keeps stdin and stderr).
     */
    const backupAtTerminal = (units: string[], cfg = config, extra: string[] = [], pipe = "") => {
      const argv = [
        ...cliArgv(env),
        "backup",
        "--config",
        cfg,
        ...units.flatMap((u) => ["--unit", u]),
        ...extra,
      ];
      const line = `${argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ")} ${pipe}`;
      return run(["script", "-qec", line, "/dev/null"], {
        check: false,
        env: { ...env, NO_COLOR: "1", TZ: "Etc/UTC", CI: undefined, KOPI_DOCKA_CONFIG: undefined },
        timeoutMs: 300_000,
      });
    };
    const kopiaLogs = join(kd, "state", "kopia");
    const kopiaFiles = () => (existsSync(kopiaLogs) ? readdirSync(kopiaLogs, { recursive: true }).length : 0);
    /** A usage error with nobody at the terminal: exit 2, the error printed, and a failure like any other. */
    const expectUsageAlert = (r: { exitCode: number | null; stderr: string }, text: string, hint: string) => {
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(text);
      expect(pings().map((p) => p.path)).toEqual([`/ping/${pingSecret}/start`, `/ping/${pingSecret}/2`]);
      const sent = hooks()
        .map((h) => JSON.parse(h.body))
        .filter((j) => j.event === "preflight");
      expect(sent).toHaveLength(1);
      expect(sent[0].title).toBe("kopi-docka kd-test-host: backup NOT started (the command line is wrong)");
      expect(sent[0].body).toContain(text);
      expect(sent[0].body).toContain(`next: ${hint}`);
      // The mail's lines are folded (subject) and quoted-printable (body): read unfolded.
      const mail = smtp.mails.map((m) => m.data.replaceAll(/=\r?\n/g, "").replaceAll(/\r?\n[ \t]+/g, " "));
      expect(
        mail.some((m) => m.includes("(the command line is wrong)") && m.includes("no container was stopped")),
      ).toBe(true);
      expect(https.requests.some((q) => q.body.includes(text))).toBe(true);
      assertNoSecret(r.stderr, sentText(), ...smtp.mails.map((m) => m.data));
      return sent[0];
    };

    test("a mistyped --unit at a terminal: exit 2, and nothing reaches any receiver, nothing is written (missed.json, kopia)", async () => {
      const missed = join(kd, "state", "alerts", "missed.json");
      const before = existsSync(missed) ? readFileSync(missed, "utf8") : undefined;
      const logsBefore = kopiaFiles();
      reset();
      const r = await backupAtTerminal([`${ok}-typo`]);
      expect(r.exitCode).toBe(2);
      expect(r.stdout).toContain(`no unit named ${ok}-typo on this host`);
      // A heartbeat /start then /2 would make Healthchecks mark the night failed over a typo the admin sees.
      expect([http.requests, https.requests, smtp.mails]).toEqual([[], [], []]);
      expect(existsSync(missed) ? readFileSync(missed, "utf8") : undefined).toBe(before);
      // No kopia process ran: its config dir holds no new log or file.
      expect(kopiaFiles()).toBe(logsBefore);
    });

    test("a mistyped --unit under a timer (no terminal): exit 2, the error printed, and the failure alert to every target; no kopia, no run recorded", async () => {
      const logsBefore = kopiaFiles();
      const count = () => (existsSync(runsDir) ? readdirSync(runsDir).length : 0);
      const recorded = count();
      reset();
      const r = await backup([`${ok}-typo`]);
      // Before: the same exit 2, and nothing sent: a nightly timer failing this way went unheard for days.
      const alert = expectUsageAlert(r, `no unit named ${ok}-typo on this host`, "units: ");
      expect(alert.body).toMatch(new RegExp(`next: units: .*${ok}`));
      expect(kopiaFiles()).toBe(logsBefore);
      expect(count()).toBe(recorded);
    });

    test("a mistyped flag under a timer (`backup --scpe minimal`): exit 2 and the failure alert naming the flag, never another flag's value; at a terminal with stdout piped, it and a --unit typo send nothing", async () => {
      const logsBefore = kopiaFiles();
      const count = () => (existsSync(runsDir) ? readdirSync(runsDir).length : 0);
      const recorded = count();
      reset();
      // The value of another flag (`--unit`) is the hook's secret: no alert, log or stderr may show it.
      const r = await runCli(["backup", "--config", config, "--unit", hookSecret, "--scpe", "minimal"], {
        env,
      });
      // Before: the same exit 2, and nothing sent: the config was never read, so no target was known.
      const alert = expectUsageAlert(
        r,
        "unknown option --scpe for `kopi-docka backup`",
        "valid options: --config, ",
      );
      expect(JSON.stringify(alert)).not.toContain("minimal");
      expect(kopiaFiles()).toBe(logsBefore);
      expect(count()).toBe(recorded);
      // `kopi-docka backup | cat` at a terminal: stdout is a pipe, the person still reads stderr there.
      reset();
      const typo = await backupAtTerminal([], config, ["--scpe", "minimal"], "| cat");
      expect(typo.stdout).toContain("unknown option --scpe for `kopi-docka backup`");
      const unit = await backupAtTerminal([`${ok}-typo`], config, [], "| cat");
      expect(unit.stdout).toContain(`no unit named ${ok}-typo on this host`);
      // Before: stdout piped counted as nobody there, and the --unit typo sent the heartbeat and alerts.
      expect([http.requests, https.requests, smtp.mails]).toEqual([[], [], []]);
    });

    test("an empty --unit name under a timer (`--unit a,`): exit 2 and the failure alert", async () => {
      reset();
      const r = await backup([`${ok},`]);
      expectUsageAlert(r, "--unit has an empty name", "name each unit: --unit a,b or --unit a --unit b");
    });

    test("an excluded unit named with --unit: exit 2 with the reason; at a terminal nothing is sent, under a timer the failure alert; no run recorded", async () => {
      const cfg = writeTestConfig(kd, configText(`\n[units.${ok}]\nexclude = true\n`));
      const count = () => (existsSync(runsDir) ? readdirSync(runsDir).length : 0);
      const recorded = count();
      const reason = `${ok} is excluded (config [units.${ok}] exclude = true)`;
      try {
        reset();
        const atTerminal = await backupAtTerminal([ok], cfg);
        expect(atTerminal.exitCode).toBe(2);
        expect(atTerminal.stdout).toContain(reason);
        // Before: exit 0, a run recorded ok with no unit, and the heartbeat and "always" targets told success.
        expect([http.requests, https.requests, smtp.mails]).toEqual([[], [], []]);
        reset();
        expectUsageAlert(await backup([ok], cfg), reason, "units it backs up: ");
        expect(count()).toBe(recorded);
      } finally {
        writeTestConfig(kd, configText());
      }
    });

    test("a lock file that cannot be used (a directory in its place): exit 11 and an alert; nobody else would say so", async () => {
      const lock = join(kd, "kopi-docka.lock");
      mkdirSync(lock);
      try {
        reset();
        const r = await backup([ok]);
        expect(r.exitCode).toBe(11);
        expect(lastJson().body).toContain(`cannot use the lock file ${lock}`);
        expect(lastJson().title).toContain("backup NOT started (the lock file cannot be used)");
        expect(smtp.mails.at(-1)?.data).toContain("no backup was made and no container was stopped");
      } finally {
        rmdirSync(lock);
      }
    });

    test("container that cannot start again (exit 4): an URGENT report to every target", async () => {
      const name = uniqueName("kdtal-down");
      const src = join(dir.path, "bindsrc");
      mkdirSync(src, { recursive: true });
      writeFileSync(join(src, "x"), "x");
      const hook = join(dir.path, "rm-bind.sh");
      // The pre-backup hook removes the bind source of a --mount bind (docker never recreates one):
      // the running container keeps it, but `docker start` after the stop fails.
      writeFileSync(hook, `#!/bin/sh\nrm -rf "${src}"\n`, { mode: 0o755 });
      const cfg = writeTestConfig(kd, configText(`\n[units.${name}]\npre_backup = "${hook}"\n`));
      await runTestContainer(name, ["--mount", `type=bind,source=${src},target=/b`]);
      containers.push(name);
      try {
        reset();
        const r = await backup([name], cfg);
        expect(r.exitCode).toBe(4);
        const body = lastJson();
        expect(body).toMatchObject({
          event: "run",
          severity: "urgent",
          status: "restart_failed",
          exitCode: 4,
        });
        expect(body.units[0].restartFailed).toEqual([name]);
        expect(smtp.mails.at(-1)?.data).toContain("URGENT");
        expect(smtp.mails.at(-1)?.data).toMatch(/Importance: high/i);
        expect(https.requests.at(-1)?.headers.priority).toBe("5");
        expect(pings().at(-1)?.path).toBe(`/ping/${pingSecret}/4`);
      } finally {
        writeTestConfig(kd, configText());
        // Left stopped, its journal entry kept: every later run's heal would try it and report it down.
        await run(["docker", "rm", "-f", name], { check: false });
      }
    });

    test("SIGTERM mid-run: exit 143, the interrupted run still reported (after the restarts) and in the textfile", async () => {
      const marker = join(dir.path, "hook-started");
      const hook = join(dir.path, "slow.sh");
      writeFileSync(hook, `#!/bin/sh\ntouch "${marker}"\nsleep 60\n`, { mode: 0o755 });
      const cfg = writeTestConfig(kd, configText(`\n[units.${ok}]\npre_backup = "${hook}"\n`));
      try {
        reset();
        const proc = Bun.spawn([...cliArgv(env), "backup", "--config", cfg, "--unit", ok], {
          env: { ...process.env, ...env, CI: "true", NO_COLOR: "1" },
          stdout: "pipe",
          stderr: "pipe",
        });
        for (let i = 0; i < 300 && !existsSync(marker); i++) await Bun.sleep(100);
        expect(existsSync(marker)).toBe(true);
        proc.kill("SIGTERM");
        expect(await proc.exited).toBe(143);
        const body = lastJson();
        expect(body).toMatchObject({
          event: "run",
          severity: "failure",
          interrupted: "SIGTERM",
          exitCode: 143,
        });
        expect(pings().at(-1)?.path).toBe(`/ping/${pingSecret}/143`);
        const rec = records().at(-1);
        expect(rec.interrupted).toBe("SIGTERM");
        const m = await parsePrometheus(textfile);
        // The signal path records the run, and the ending normal path may record it again a few ms later.
        expect(
          Math.abs((m.kopi_docka_run_timestamp_seconds ?? 0) - Date.parse(rec.finishedAt) / 1000),
        ).toBeLessThan(2);
        const okUnits = rec.units.filter((u: { status: string }) => u.status === "ok").length;
        expect(m['kopi_docka_units{status="ok"}']).toBe(okUnits);
        expect(okUnits).toBe(0);
      } finally {
        writeTestConfig(kd, configText());
      }
    });

    test("pre-flight: the repository made unreachable (its directory gone, as an unmounted disk) → alert, exit 10, no container stopped, no new repository", async () => {
      const before = (await inspectState(ok)).StartedAt;
      const repo = join(kd, "repository");
      renameSync(repo, `${repo}.away`);
      try {
        reset();
        const r = await backup([ok]);
        expect(r.exitCode).toBe(10);
        expect(r.stderr).toContain("there is no kopia repository at");
        expect(r.stderr).toContain("is the disk mounted?");
        expect(existsSync(repo)).toBe(false);
        expect((await inspectState(ok)).StartedAt).toBe(before);
        expect(lastJson()).toMatchObject({
          event: "preflight",
          severity: "failure",
          code: "repository",
          exitCode: 10,
        });
        expect(lastJson().title).toContain("backup NOT started (repository unreachable)");
        expectPreflightAlert(10, r.stderr);
      } finally {
        await run(["rm", "-rf", repo]);
        renameSync(`${repo}.away`, repo);
      }
    });

    test("pre-flight: the repository cannot be opened (its password file is gone) → alert, exit 2 naming the file, no container stopped", async () => {
      const before = (await inspectState(ok)).StartedAt;
      const pw = join(kd, "repository.password");
      const real = readFileSync(pw, "utf8");
      await withPasswordFile(undefined, async () => {
        const r = await backup([ok]);
        // A host that has used its repository never makes a new password (it could not open old backups).
        expect(r.exitCode).toBe(2);
        expect(r.stderr).toContain(`${pw} (repository.password_file) is missing`);
        expect((await inspectState(ok)).StartedAt).toBe(before);
        expect(lastJson()).toMatchObject({
          event: "preflight",
          severity: "failure",
          code: "config",
          exitCode: 2,
        });
        writeFileSync(pw, real, { mode: 0o600 }); // back, so the no-secret check knows the password
        expectPreflightAlert(2, r.stderr);
      });
    });

    test("pre-flight: wrong password → alert, exit 12", async () => {
      // A fresh kopia config forces a connect with the (wrong) password.
      await withPasswordFile("not-the-password\n", async () => {
        const r = await backup([ok]);
        expect(r.exitCode).toBe(12);
        expect(lastJson()).toMatchObject({ event: "preflight", code: "repository_auth", exitCode: 12 });
      });
    });
  },
);
