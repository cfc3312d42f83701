import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scrub } from "../../../../src/core/alerts/mask.ts";
import type { Message } from "../../../../src/core/alerts/message.ts";
import { parseTarget } from "../../../../src/core/alerts/parse.ts";
import { readPending, writePending } from "../../../../src/core/alerts/pending.ts";
import { keepUndelivered, MAX_PENDING_PER_TARGET, readBounded } from "../../../../src/core/alerts/retry.ts";
import type { SendResult } from "../../../../src/core/alerts/send.ts";
import { cleanups, failed, failure, hook, mail, ok, PASSWORD, queue, TOKEN } from "./pending-fixtures.ts";

afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("an alert a target did not get is kept", () => {
  test("one 0600 file per target that missed it, in a 0700 dir; the delivered target's copy is not kept", () => {
    const { q, files } = queue();
    const [a, b] = [hook(), mail()];
    const kept = keepUndelivered(
      q,
      [a, b],
      failure(),
      [failed(a.label), ok(b.label)],
      "2026-12-01T02:00:00.000Z",
    );
    expect(kept).toBe(1);
    expect(files()).toHaveLength(1);
    expect(files()[0]).toMatch(new RegExp(`^${a.id}-\\d{13}-[0-9a-f]{8}\\.json$`));
    expect(statSync(q.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(q.dir, files()[0] ?? "")).mode & 0o777).toBe(0o600);
    const [entry] = readPending(q.dir).entries;
    expect(entry?.alert).toMatchObject({
      target: a.id,
      label: "json://u:***@127.0.0.1:9/***",
      from: "2026-12-01T02:00:00.000Z",
      error: "connect ECONNREFUSED",
      message: { event: "run", severity: "failure", title: failure().title },
    });
  });

  test("the file holds no secret of the target: the URL is a digest, the label masked, the error scrubbed", () => {
    const { q, files } = queue();
    const [a, b] = [hook(), mail()];
    // What `sendOne` reports: its error text scrubbed of that target's own secrets.
    const leaked = (t: typeof a, text: string): SendResult => ({
      ...failed(t.label),
      error: scrub(text, t.secrets),
    });
    const results = [leaked(a, `401 for /hook/${TOKEN} as u:${PASSWORD}`), leaked(b, `535 auth ${PASSWORD}`)];
    keepUndelivered(q, [a, b], failure(), results, "2026-12-01T02:00:00.000Z");
    expect(files()).toHaveLength(2);
    for (const f of files()) {
      const text = readFileSync(join(q.dir, f), "utf8");
      for (const secret of [
        PASSWORD,
        TOKEN,
        encodeURIComponent(PASSWORD),
        "127.0.0.1:9/hook",
        "Authorization",
      ])
        expect(text).not.toContain(secret);
    }
    expect(
      readPending(q.dir)
        .entries.map((e) => e.alert.label)
        .sort(),
    ).toEqual(["json://u:***@127.0.0.1:9/***", "mailto://kd@example.org:***@127.0.0.1:25/***"]);
    expect(
      readPending(q.dir)
        .entries.map((e) => e.alert.target)
        .sort(),
    ).toEqual([a.id, b.id].sort());
  });

  test("kept: warnings, failures, urgent, missed; not kept: a run that went well, a test", () => {
    const kinds: [Message, number][] = [
      [{ ...failure(), severity: "warning" }, 1],
      [{ ...failure(), severity: "urgent" }, 1],
      [{ ...failure(), event: "missed" }, 1],
      [{ ...failure(), event: "preflight" }, 1],
      [{ ...failure(), severity: "info" }, 0],
      [{ ...failure(), event: "test", severity: "info" }, 0],
    ];
    for (const [m, n] of kinds) {
      const { q } = queue();
      const t = parseTarget("ntfy://127.0.0.1:9/topic", "always");
      expect(keepUndelivered(q, [t], m, [failed(t.label)], "2026-12-01T02:00:00.000Z")).toBe(n);
    }
  });

  test("a target whose level does not want the message is skipped; results line up with those that do", () => {
    const { q } = queue();
    const picky = parseTarget("ntfy://127.0.0.1:9/only-failures", "failure");
    const all = parseTarget("ntfy://127.0.0.1:9/everything", "warning");
    const warning = { ...failure(), severity: "warning" as const };
    expect(keepUndelivered(q, [picky, all], warning, [failed(all.label)], "2026-12-01T02:00:00.000Z")).toBe(
      1,
    );
    expect(readPending(q.dir).entries.map((e) => e.alert.target)).toEqual([all.id]);
  });
});

describe("bounded: the newest N per target, none older than 7 days, said in the log", () => {
  test(`more than ${MAX_PENDING_PER_TARGET} for one target: the oldest dropped; another target's untouched`, () => {
    const { q, lines } = queue();
    const [a, b] = [hook(), mail()];
    for (let i = 0; i < MAX_PENDING_PER_TARGET + 2; i++)
      keepUndelivered(
        q,
        [a],
        failure(`night ${i}`),
        [failed(a.label)],
        `2026-12-01T02:${String(i).padStart(2, "0")}:00.000Z`,
      );
    keepUndelivered(q, [b], failure("mail night"), [failed(b.label)], "2026-11-30T02:00:00.000Z");
    const left = readBounded(q);
    const titles = left.filter((e) => e.alert.target === a.id).map((e) => e.alert.message.title);
    expect(titles).toHaveLength(MAX_PENDING_PER_TARGET);
    expect(titles[0]).toBe("night 2");
    expect(titles.at(-1)).toBe(`night ${MAX_PENDING_PER_TARGET + 1}`);
    expect(left.filter((e) => e.alert.target === b.id)).toHaveLength(1);
    expect(
      lines.filter((l) => l.startsWith("warn") && l.includes(`more than ${MAX_PENDING_PER_TARGET} waiting`)),
    ).toHaveLength(2);
    expect(lines.join("\n")).toContain("dropped (more than 10 waiting for it): night 0");
  });

  test("an alert older than 7 days is dropped and said; a 6-day-old one stays", () => {
    const { q, lines, files } = queue(new Date("2026-12-10T02:00:00Z"));
    const a = hook();
    keepUndelivered(q, [a], failure("old night"), [failed(a.label)], "2026-12-02T01:59:00.000Z");
    keepUndelivered(q, [a], failure("recent night"), [failed(a.label)], "2026-12-04T02:00:00.000Z");
    expect(readBounded(q).map((e) => e.alert.message.title)).toEqual(["recent night"]);
    expect(files()).toHaveLength(1);
    expect(lines.join("\n")).toContain("dropped (older than 7 days): old night");
  });
});

describe("a queue file that cannot be read never stops anything", () => {
  test("not JSON, not an entry, a name that lies: each set aside as .corrupt and warned; the good one still read", () => {
    const { q, lines, files } = queue();
    const a = hook();
    writePending(q.dir, {
      target: a.id,
      label: a.label,
      from: "2026-12-01T02:00:00.000Z",
      message: failure(),
    });
    writeFileSync(join(q.dir, `${a.id}-0000000000001-00000000.json`), "{ half a file");
    writeFileSync(join(q.dir, `${a.id}-0000000000002-00000000.json`), JSON.stringify({ target: a.id }));
    writeFileSync(
      join(q.dir, "0123456789abcdef-0000000000003-00000000.json"),
      JSON.stringify({ target: a.id, label: "x", from: "2026-12-01T02:00:00.000Z", message: failure() }),
    );
    const entries = readBounded(q);
    expect(entries.map((e) => e.alert.message.title)).toEqual([failure().title]);
    expect(files().filter((f) => f.endsWith(".json.corrupt"))).toHaveLength(3);
    const warned = lines.filter((l) => l.startsWith("warn") && l.includes("set aside as"));
    expect(warned).toHaveLength(3);
    expect(warned.join("\n")).toContain("not JSON");
    expect(readBounded(q)).toHaveLength(1); // set aside: never read again, never warned again
  });

  test("a queue directory that cannot be read (a file in its place): warned, nothing thrown, nothing kept there", () => {
    const { q, lines } = queue();
    mkdirSync(join(q.dir, ".."), { recursive: true });
    writeFileSync(q.dir, "not a directory");
    expect(readBounded(q)).toEqual([]);
    expect(lines.join("\n")).toContain(`undelivered alerts in ${q.dir} not read`);
    const a = hook();
    expect(keepUndelivered(q, [a], failure(), [failed(a.label)], "2026-12-01T02:00:00.000Z")).toBe(0);
    expect(lines.join("\n")).toContain(`undelivered alert for ${a.label} not kept in ${q.dir}`);
  });
});
