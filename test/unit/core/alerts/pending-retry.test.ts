import { afterEach, describe, expect, test } from "bun:test";
import { renameSync } from "node:fs";
import { join } from "node:path";
import type { Message } from "../../../../src/core/alerts/message.ts";
import { writePending } from "../../../../src/core/alerts/pending.ts";
import { delayedMessage, keepUndelivered, retryPending } from "../../../../src/core/alerts/retry.ts";
import type { SendResult } from "../../../../src/core/alerts/send.ts";
import type { Target } from "../../../../src/core/alerts/target.ts";
import { processStartTime } from "../../../../src/core/lock/owner.ts";
import { processStamp } from "../../../../src/core/process/temp-dirs.ts";
import { cleanups, failed, failure, hook, mail, queue } from "./pending-fixtures.ts";

afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** An injected sender: records what each target was sent; `down` targets fail. */
function sender(down = new Set<string>(), delayMs = 0) {
  const sent: { label: string; m: Message }[] = [];
  const send = async (t: Target, m: Message): Promise<SendResult> => {
    if (delayMs) await Bun.sleep(delayMs);
    if (down.has(t.id)) return failed(t.label);
    sent.push({ label: t.label, m });
    return { target: t.label, ok: true, ms: 1 };
  };
  return { sent, send, down };
}

const FROM = "2026-12-01T02:00:03.412Z";

describe("kept alerts are sent again by the next run, marked delayed", () => {
  test("delivered once, marked in title, body and data; then the queue is empty and nothing goes twice", async () => {
    const { q, files } = queue();
    const a = hook();
    keepUndelivered(q, [a], failure(), [failed(a.label)], FROM);
    const s = sender();
    expect(await retryPending(q, [a], s.send)).toEqual({ delivered: 1, failed: 0 });
    expect(s.sent).toHaveLength(1);
    const m = s.sent[0]?.m;
    expect(m?.title).toBe(`${failure().title} (delayed: from the run at 2026-12-01 02:00:03 UTC)`);
    expect(m?.body.split("\n")[0]).toBe(
      "delayed: from the run at 2026-12-01 02:00:03 UTC; not delivered then (connect ECONNREFUSED)",
    );
    expect(m?.body).toContain(failure().body);
    expect(m?.data).toMatchObject({ ...failure().data, delayedFrom: FROM });
    expect(m?.severity).toBe("failure");
    expect(files()).toEqual([]);
    expect(await retryPending(q, [a], s.send)).toEqual({ delivered: 0, failed: 0 });
    expect(s.sent).toHaveLength(1);
  });

  test("a missed-backup alert is 'from the check at'", () => {
    const m = delayedMessage({
      target: "0".repeat(16),
      label: "x",
      from: FROM,
      message: { ...failure(), event: "missed" },
    });
    expect(m.title).toEndWith("(delayed: from the check at 2026-12-01 02:00:03 UTC)");
  });

  test("a retry that fails again leaves the alert queued as it was, once; the next that works delivers it once", async () => {
    const { q, files, lines } = queue();
    const a = hook();
    keepUndelivered(q, [a], failure(), [failed(a.label)], FROM);
    const before = files();
    const s = sender(new Set([a.id]));
    for (let i = 0; i < 3; i++)
      expect(await retryPending(q, [a], s.send)).toEqual({ delivered: 0, failed: 1 });
    expect(files()).toEqual(before);
    expect(lines.filter((l) => l.includes("still not delivered, kept"))).toHaveLength(3);
    s.down.clear();
    expect(await retryPending(q, [a], s.send)).toEqual({ delivered: 1, failed: 0 });
    expect(s.sent).toHaveLength(1);
    expect(files()).toEqual([]);
  });

  test("oldest first; a target that fails is not tried again in that run; another target is sent its own", async () => {
    const { q } = queue();
    const [a, b] = [hook(), mail()];
    for (const night of ["2026-12-01", "2026-11-30", "2026-11-29"])
      keepUndelivered(
        q,
        [a, b],
        failure(`night ${night}`),
        [failed(a.label), failed(b.label)],
        `${night}T02:00:00.000Z`,
      );
    let tries = 0;
    const s = sender(new Set([a.id]));
    const counting = (t: Target, m: Message) => {
      if (t.id === a.id) tries++;
      return s.send(t, m);
    };
    expect(await retryPending(q, [a, b], counting)).toEqual({ delivered: 3, failed: 1 });
    expect(tries).toBe(1);
    expect(s.sent.map((x) => x.m.title.split(" (")[0])).toEqual([
      "night 2026-11-29",
      "night 2026-11-30",
      "night 2026-12-01",
    ]);
    expect(s.sent.every((x) => x.label === b.label)).toBe(true);
  });

  test("an alert for a target not configured now stays (until it ages out); it goes to no other target", async () => {
    const { q, files } = queue();
    const [a, b] = [hook(), mail()];
    keepUndelivered(q, [a], failure(), [failed(a.label)], FROM);
    const s = sender();
    expect(await retryPending(q, [b], s.send)).toEqual({ delivered: 0, failed: 0 });
    expect(s.sent).toEqual([]);
    expect(files()).toHaveLength(1);
  });

  test("a sender that throws: the alert stays queued, nothing thrown", async () => {
    const { q, files } = queue();
    const a = hook();
    keepUndelivered(q, [a], failure(), [failed(a.label)], FROM);
    const throwing = async (): Promise<SendResult> => {
      throw new Error("boom");
    };
    expect(await retryPending(q, [a], throwing)).toEqual({ delivered: 0, failed: 1 });
    expect(files()).toHaveLength(1);
    expect(files()[0]).toEndWith(".json");
  });
});

describe("two senders at once, and a sender killed mid-send", () => {
  test("two retries at the same time (backup and check-freshness): each alert reaches its target once", async () => {
    const { q, files } = queue();
    const a = hook();
    for (const h of ["01", "02", "03"])
      keepUndelivered(q, [a], failure(`night ${h}`), [failed(a.label)], `2026-12-01T${h}:00:00.000Z`);
    const s = sender(new Set(), 20);
    const [x, y] = await Promise.all([retryPending(q, [a], s.send), retryPending(q, [a], s.send)]);
    expect(x.delivered + y.delivered).toBe(3);
    expect(s.sent.map((e) => e.m.title.split(" (")[0]).sort()).toEqual(["night 01", "night 02", "night 03"]);
    expect(files()).toEqual([]);
  });

  test("an alert claimed by a process that died is put back and sent; one a live process holds is left alone", async () => {
    const { q, files } = queue();
    const a = hook();
    const dead = Bun.spawnSync(["true"]).pid;
    const deadStamp = processStamp().replace(/^p\d+-\d+-/, `p${dead}-${processStartTime(process.pid) ?? 1}-`);
    const one = writePending(q.dir, { target: a.id, label: a.label, from: FROM, message: failure("dead's") });
    renameSync(one, `${one}.sending-${deadStamp}-abc123`);
    const two = writePending(q.dir, { target: a.id, label: a.label, from: FROM, message: failure("live's") });
    renameSync(two, `${two}.sending-${processStamp()}-abc123`);
    const s = sender();
    expect(await retryPending(q, [a], s.send)).toEqual({ delivered: 1, failed: 0 });
    expect(s.sent.map((e) => e.m.title.split(" (")[0])).toEqual(["dead's"]);
    expect(files()).toEqual([`${join(two).split("/").at(-1)}.sending-${processStamp()}-abc123`]);
  });
});
