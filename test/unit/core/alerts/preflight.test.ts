import { describe, expect, test } from "bun:test";
import { wants } from "../../../../src/core/alerts/message.ts";
import { preflightMessage } from "../../../../src/core/alerts/preflight.ts";
import { AppError } from "../../../../src/core/errors.ts";

describe("pre-flight messages (the run left no record)", () => {
  test("restart_failed at the heal: its own URGENT title and text, not 'repository unreachable'", () => {
    const e = new AppError(
      "restart_failed",
      "cannot inspect the containers to recover: docker inspect timed out",
      {
        hint: "is the docker daemon running? the journal is kept; run `kopi-docka recover` again",
      },
    );
    const m = preflightMessage("h", e, 4);
    expect(m.severity).toBe("urgent");
    expect(m.title).toBe(
      "kopi-docka h: URGENT: containers a killed run stopped NOT started again; backup NOT run",
    );
    expect(m.body.split("\n")).toEqual([
      "host h: no backup was made, and containers a killed earlier run had stopped may still be down.",
      "cannot inspect the containers to recover: docker inspect timed out",
      "next: is the docker daemon running? the journal is kept; run `kopi-docka recover` again",
    ]);
    expect(m.data).toMatchObject({ code: "restart_failed", exitCode: 4 });
    expect(wants("failure", m)).toBe(true);
  });

  test("an unreachable repository still says nothing was stopped", () => {
    const m = preflightMessage("h", new AppError("repository", "no repository at /mnt/x"), 10);
    expect(m.severity).toBe("failure");
    expect(m.title).toBe("kopi-docka h: backup NOT started (repository unreachable)");
    expect(m.body).toContain("no backup was made and no container was stopped.");
  });

  test("an unexpected error says the run failed and left no record", () => {
    const m = preflightMessage("h", new AppError("backup_failed", "boom"), 1);
    expect(m.title).toBe("kopi-docka h: backup FAILED (unexpected error)");
    expect(m.body).toContain("the backup run failed and left no run record.");
  });
});
