import { describe, expect, test } from "bun:test";
import { nextStep } from "../../../../src/core/alerts/message.ts";
import { errorsLine } from "../../../../src/core/backup/result.ts";

describe("a max_cold_seconds cancellation", () => {
  const cancelled = "cancelled: the cold window passed max_cold_seconds (5 s)";

  test("its next step also says to raise max_cold_seconds; another snapshot failure's does not", () => {
    const next = nextStep({ phase: "snapshot", item: "db-data", message: cancelled });
    expect(next).toContain("check the repository (reachable, free space)");
    expect(next).toContain("raise max_cold_seconds");
    expect(
      nextStep({ phase: "snapshot", item: "db-data", message: "no space left on device" }),
    ).not.toContain("max_cold_seconds");
  });

  test("the FAILED line says the reason once, naming every source it ended", () => {
    const line = errorsLine([
      { phase: "snapshot", item: "db-data", message: cancelled },
      { phase: "snapshot", item: "uploads", message: cancelled },
      { phase: "start", item: "db", message: "exited with code 3" },
    ]);
    expect(line).toBe(`snapshot db-data, uploads: ${cancelled}; start db: exited with code 3`);
  });
});
