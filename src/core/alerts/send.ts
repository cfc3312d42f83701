import { readFileSync } from "node:fs";
import type { Config } from "../../config/schema.ts";
import { errorMessage } from "../caught.ts";
import { SendError } from "./errors.ts";
import { httpRequest } from "./http.ts";
import { sendMail } from "./mail.ts";
import { scrub } from "./mask.ts";
import { type Message, wants } from "./message.ts";
import type { Target } from "./target.ts";

export interface SendOptions {
  /** Each target's bound; all targets run in parallel, so this bounds the whole phase too. */
  timeoutMs: number;
  /** Extra trusted CA (PEM) for https and SMTP TLS. */
  ca?: string;
}

/** `[alerts] timeout` and `ca_file` (read now: an unreadable CA file is the caller's error). */
export function sendOptions(config: Config): SendOptions {
  const ca = config.alerts.ca_file ? readFileSync(config.alerts.ca_file, "utf8") : undefined;
  return { timeoutMs: config.alerts.timeout * 1000, ca };
}

export interface SendResult {
  target: string;
  ok: boolean;
  ms: number;
  error?: string;
  timedOut?: boolean;
}

async function postHttp(t: Target & { kind: "http" }, m: Message, o: SendOptions, signal: AbortSignal) {
  const r = httpRequest(t, m);
  const res = await fetch(r.url, {
    method: r.method,
    headers: r.headers,
    body: r.body,
    signal,
    redirect: "manual",
    ...(o.ca ? { tls: { ca: o.ca } } : {}),
  });
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
}

/** Sends to one target, within its bound. Never throws: the result says what happened (secrets scrubbed). */
export async function sendOne(t: Target, m: Message, o: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new SendError(t.label, `no answer within ${o.timeoutMs / 1000}s`, true));
    }, o.timeoutMs);
  });
  try {
    const work = t.kind === "http" ? postHttp(t, m, o, controller.signal) : sendMail(t, m, o);
    await Promise.race([work, bound]);
    return { target: t.label, ok: true, ms: Math.round(performance.now() - started) };
  } catch (e) {
    const text = errorMessage(e);
    return {
      target: t.label,
      ok: false,
      ms: Math.round(performance.now() - started),
      error: scrub(text, t.secrets),
      timedOut: e instanceof SendError && e.timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Sends `m` to every target whose level wants it, all at once. */
export function sendAll(targets: readonly Target[], m: Message, o: SendOptions): Promise<SendResult[]> {
  return Promise.all(targets.filter((t) => wants(t.level, m)).map((t) => sendOne(t, m, o)));
}
