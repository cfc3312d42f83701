// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { freePort, httpRecorder, smtpSink, testCa } from "../helpers/receivers.ts";

/**
 * A failed night whose alert cannot be delivered (the webhook receiver and the SMTP server both down)
 * is kept, and the next run delivers it once, marked delayed, with the real CLI, docker and kopia.
 */
describeReal(
  "alerts: an undelivered failure alert is kept and sent by the next run",
  ["docker", "kopia", "image"],
  () => {
    const dir = tempDir("kd-alert-retry-");
    const kd = join(dir.path, "kd");
    const hookSecret = `hook-${crypto.randomUUID()}`;
    const mailPassword = `mail-${crypto.randomUUID()}`;
    const env = { KOPI_DOCKA_TEST_SOURCE: "1", HOOK_SECRET: hookSecret, MAIL_PW: mailPassword };
    const ok = uniqueName("s20f3-ok");
    const refusing = uniqueName("s20f3-hook");
    let tls: Awaited<ReturnType<typeof testCa>>;
    let httpPort = 0;
    let smtpPort = 0;
    let config = "";
    const stops: (() => void)[] = [];
    const pendingDir = join(kd, "state", "alerts", "pending");
    const pending = () => {
      try {
        return readdirSync(pendingDir);
      } catch {
        return [];
      }
    };
    const backup = (unit: string) => runCli(["backup", "--config", config, "--unit", unit], { env });

    beforeAll(async () => {
      tls = await testCa(dir.path);
      [httpPort, smtpPort] = [await freePort(), await freePort()];
      writeFileSync(join(dir.path, "refuse.sh"), "#!/bin/sh\necho refusing >&2\nexit 7\n", { mode: 0o755 });
      config = writeTestConfig(
        kd,
        `[units.${refusing}]
pre_backup = "${join(dir.path, "refuse.sh")}"

[alerts]
timeout = 3
ca_file = "${tls.caFile}"

[[alerts.notify]]
url = "json://127.0.0.1:${httpPort}/hook/\${HOOK_SECRET}"
level = "failure"

[[alerts.notify]]
url = "mailto://kd%40example.org:\${MAIL_PW}@localhost:${smtpPort}?to=ops@example.org"
level = "failure"
`,
      );
      for (const name of [ok, refusing]) await startContainer(name, `${name}-v`);
    });

    afterAll(async () => {
      for (const stop of stops) stop();
      await run(["docker", "rm", "-f", ok, refusing], { check: false });
      await run(["docker", "volume", "rm", "-f", `${ok}-v`, `${refusing}-v`], { check: false });
      dir.remove();
    });

    test("receivers down: the failed run's report is kept per target (0600, no secret); up at the next run: it arrives once, then the queue is empty", async () => {
      const first = await backup(refusing);
      expect(first.exitCode).toBe(1);
      expect(first.stderr).toContain("2 notification(s) not delivered (the backup's result stands); 2 kept");
      expect(pending()).toHaveLength(2);
      for (const f of pending()) {
        expect(statSync(join(pendingDir, f)).mode & 0o777).toBe(0o600);
        const text = readFileSync(join(pendingDir, f), "utf8");
        expect(text).toContain("backup FAILED");
        for (const secret of [hookSecret, mailPassword, encodeURIComponent(mailPassword)])
          expect(text).not.toContain(secret);
      }
      expect(statSync(pendingDir).mode & 0o777).toBe(0o700);
      const firstRunAt = JSON.parse(readFileSync(join(pendingDir, pending()[0] ?? ""), "utf8"))
        .from as string;

      const http = httpRecorder(undefined, httpPort);
      const smtp = await smtpSink(tls, false, mailPassword, smtpPort);
      stops.push(http.stop, smtp.stop);
      const second = await backup(ok);
      expect(second.exitCode).toBe(0);
      const note = `delayed: from the run at ${firstRunAt.slice(0, 19).replace("T", " ")} UTC`;
      expect(http.requests).toHaveLength(1); // tonight's OK is no failure: only the delayed report
      expect(http.requests[0]?.path).toBe(`/hook/${hookSecret}`);
      const body = JSON.parse(http.requests[0]?.body ?? "{}");
      expect(body).toMatchObject({
        event: "run",
        severity: "failure",
        status: "failed",
        delayedFrom: firstRunAt,
      });
      expect(body.title).toContain(`(${note})`);
      expect(body.body).toContain(refusing);
      expect(smtp.mails).toHaveLength(1);
      expect(smtp.mails[0]?.data).toContain(note);
      expect(smtp.mails[0]?.data).toContain("backup FAILED");
      expect(second.stderr).toContain("delivered to json://127.0.0.1");
      expect(pending()).toEqual([]);
      for (const text of [first.stderr, second.stderr, second.stdout]) {
        expect(text).not.toContain(hookSecret);
        expect(text).not.toContain(mailPassword);
      }

      const third = await backup(ok);
      expect(third.exitCode).toBe(0);
      expect([http.requests.length, smtp.mails.length]).toEqual([1, 1]);
    });
  },
);
