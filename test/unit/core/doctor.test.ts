import { describe, expect, test } from "bun:test";
import { type Check, doctorError, doctorReport, runDoctor } from "../../../src/core/doctor.ts";
import { Lifecycle } from "../../../src/core/safe-exit.ts";
import { FakeDocker } from "../../fakes/fake-docker.ts";
import { FakeRunner } from "../../fakes/fake-runner.ts";

const check = (id: string, status: Check["status"]): Check => ({ id, status, detail: id });
const kopiaChoice = async () =>
  ({ command: "kopia", path: "/k", version: "0.23.1", source: "path", embedded: null }) as const;

test.each<{ statuses: Check["status"][]; healthy: boolean; error?: string }>([
  { statuses: [], healthy: true },
  { statuses: ["ok", "ok"], healthy: true },
  { statuses: ["ok", "warn"], healthy: true },
  { statuses: ["fail", "warn", "ok"], healthy: false, error: "1 check(s) failed: c0" },
  { statuses: ["fail", "ok", "fail"], healthy: false, error: "2 check(s) failed: c0, c2" },
])("checks $statuses: healthy $healthy", ({ statuses, healthy, error }) => {
  const report = doctorReport(statuses.map((s, i) => check(`c${i}`, s)));
  expect(report.healthy).toBe(healthy);
  const e = doctorError(report);
  expect(e?.message).toBe(error);
  if (e) expect(e.code).toBe("check_failed");
});

describe("doctor report", () => {
  test("the schedule's lines join the report; its JSON keeps the check shape", async () => {
    const schedule = async (): Promise<Check[]> => [
      { id: "schedule", status: "fail", detail: "no backup timer", hint: "kopi-docka systemd install" },
    ];
    const checks = await runDoctor({
      runner: new FakeRunner(),
      docker: new FakeDocker(),
      lifecycle: new Lifecycle(),
      kopiaChoice,
      configProblem: "broken",
      isRoot: true,
      schedule,
    });
    const json = JSON.parse(JSON.stringify(doctorReport(checks)));
    expect(json.healthy).toBe(false);
    expect(json.checks.map((c: Check) => c.id)).toEqual([
      "docker",
      "docker-daemon",
      "compose",
      "kopia",
      "root",
      "config",
      "schedule",
    ]);
    expect(json.checks.at(-1)).toEqual({
      id: "schedule",
      status: "fail",
      detail: "no backup timer",
      hint: "kopi-docka systemd install",
    });
    const broken = await runDoctor({
      runner: new FakeRunner(),
      docker: new FakeDocker(),
      lifecycle: new Lifecycle(),
      kopiaChoice,
      isRoot: true,
      schedule: async () => {
        throw new Error("systemctl: Failed to connect to bus");
      },
    });
    expect(broken.at(-1)).toEqual({
      id: "schedule",
      status: "fail",
      detail: "cannot read the timer's state: systemctl: Failed to connect to bus",
    });
  });
});
