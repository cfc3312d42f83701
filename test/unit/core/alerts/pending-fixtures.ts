import { readdirSync } from "node:fs";
import { join } from "node:path";
import { createConsola } from "consola";
import type { Message } from "../../../../src/core/alerts/message.ts";
import { parseTarget } from "../../../../src/core/alerts/parse.ts";
import type { PendingQueue } from "../../../../src/core/alerts/retry.ts";
import type { SendResult } from "../../../../src/core/alerts/send.ts";
import { tempDir } from "../../../helpers/env.ts";

/** What each test made; the test file empties it in `afterEach`. */
export const cleanups: (() => void)[] = [];

export const PASSWORD = "pw-Secr3t-value";
export const TOKEN = "tok-Secr3t-path";
/** A target whose URL holds a password and a path token; only `json://u:***@127.0.0.1:9/***` is shown. */
export const hook = () => parseTarget(`json://u:${PASSWORD}@127.0.0.1:9/hook/${TOKEN}`, "failure");
export const mail = () =>
  parseTarget(`mailto://kd%40example.org:${PASSWORD}@127.0.0.1:25?to=ops@example.org`, "warning");

export const failure = (title = "kopi-docka h: backup FAILED: 0 of 1 units OK"): Message => ({
  event: "run",
  severity: "failure",
  title,
  body: "host h, run r1\nFAILED web\n       pre_hook: exit 7",
  data: { hostname: "h", exitCode: 1, units: [{ name: "web", error: { message: "exit 7" } }] },
});

/** A queue in a fresh temp dir whose log lines (`warn …`, `info …`) are kept. */
export function queue(now = new Date("2026-12-02T02:00:00Z")) {
  const t = tempDir("kd-pending-");
  cleanups.push(() => t.remove());
  const lines: string[] = [];
  const log = createConsola({
    level: 5,
    reporters: [{ log: (l) => lines.push(`${l.type} ${l.args.join(" ")}`) }],
  });
  const q: PendingQueue = { dir: join(t.path, "state", "alerts", "pending"), log, now: () => now };
  const files = () => (readdirSync(q.dir, { withFileTypes: false }) as string[]).sort();
  return { q, lines, files };
}

export const failed = (label: string): SendResult => ({
  target: label,
  ok: false,
  ms: 3,
  error: "connect ECONNREFUSED",
});
export const ok = (label: string): SendResult => ({ target: label, ok: true, ms: 3 });
