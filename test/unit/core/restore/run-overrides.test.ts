import { describe, expect, test } from "bun:test";
import { rebuildDockerRun } from "../../../../src/core/restore/docker-run.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { REDACTED } from "../../../../src/core/snapshot/redact.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

// `docker run -d --name web --health-cmd 'wget -q -O- localhost' --health-interval 5s --health-retries 2
// --stop-signal SIGQUIT --stop-timeout 30 --expose 9000 -p 8080:80 nginx` as docker 20.10 inspects it:
// the image's own settings merged in (nginx: EXPOSE 80, STOPSIGNAL SIGQUIT).
const S = 1_000_000_000;
const web = (config: object = {}, host: object = {}) => ({
  Id: "f00d".padEnd(64, "e"),
  Name: "/web",
  Config: {
    Image: "nginx:1.27",
    Env: [],
    Healthcheck: { Test: ["CMD-SHELL", "wget -q -O- localhost"], Interval: 5 * S, Retries: 2 },
    StopSignal: "SIGQUIT",
    StopTimeout: 30,
    ExposedPorts: { "80/tcp": {}, "9000/tcp": {} },
    ...config,
  },
  HostConfig: { PortBindings: { "80/tcp": [{ HostIp: "", HostPort: "8080" }] }, ...host },
});
const nginx = { ExposedPorts: { "80/tcp": {} }, StopSignal: "SIGQUIT", Cmd: ["nginx", "-g", "daemon off;"] };
const flags = (argv: string[]) => argv.filter((a) => /^--(health|no-health|stop|expose)/.test(a));

describe("healthcheck, stop signal and timeout, exposed ports", () => {
  test("carried where they differ from the image's own", () => {
    const r = rebuildDockerRun(web(), { image: nginx });
    expect(flags(r.argv)).toEqual([
      "--health-cmd=wget -q -O- localhost",
      "--health-interval=5s",
      "--health-retries=2",
      "--stop-timeout=30",
      "--expose=9000/tcp",
    ]);
    expect(r.argv.indexOf("--expose=9000/tcp")).toBeLessThan(r.argv.indexOf("nginx:1.27"));
    expect(r.warnings).toEqual([]);
  });

  test("the image's own are not passed again; an image this host cannot inspect: all are carried", () => {
    const same = { ...nginx, Healthcheck: web().Config.Healthcheck, StopTimeout: 30 };
    expect(
      flags(rebuildDockerRun(web(), { image: { ...same, ExposedPorts: web().Config.ExposedPorts } }).argv),
    ).toEqual([]);
    expect(flags(rebuildDockerRun(web()).argv)).toEqual([
      "--health-cmd=wget -q -O- localhost",
      "--health-interval=5s",
      "--health-retries=2",
      "--stop-signal=SIGQUIT",
      "--stop-timeout=30",
      "--expose=9000/tcp",
    ]);
  });

  test("only the timings differ: passed alone, the image's command (exec form too) stays", () => {
    const image = {
      Healthcheck: { Test: ["CMD", "/bin/check", "--quick"], Interval: 30 * S, Timeout: 3 * S },
    };
    const r = rebuildDockerRun(
      web({
        Healthcheck: {
          ...image.Healthcheck,
          Interval: 1_500_000_000,
          Timeout: 3 * S,
          StartPeriod: 250_000_000,
        },
      }),
      { image },
    );
    expect(flags(r.argv).filter((f) => f.startsWith("--health"))).toEqual([
      "--health-interval=1500ms",
      "--health-start-period=250ms",
    ]);
  });

  test("disabled (NONE) is --no-healthcheck; a command in exec form docker run cannot give is named", () => {
    const none = rebuildDockerRun(web({ Healthcheck: { Test: ["NONE"] } }), {
      image: { Healthcheck: { Test: ["CMD", "x"] } },
    });
    expect(flags(none.argv).filter((f) => f.includes("health"))).toEqual(["--no-healthcheck"]);
    const exec = rebuildDockerRun(
      web({ Healthcheck: { Test: ["CMD", "/bin/check", "--quick"], Interval: 5 * S } }),
    );
    expect(flags(exec.argv).filter((f) => f.includes("health"))).toEqual([]);
    expect(exec.warnings).toEqual([
      'web: not carried over, set by hand if needed: healthcheck ["/bin/check","--quick"] (exec form; docker run gives a shell command only)',
    ]);
  });

  test("untrusted values are checked: what is not a signal, a whole number, a port or a duration is named", () => {
    const r = rebuildDockerRun(
      web({
        Healthcheck: {
          Test: ["CMD-SHELL", `curl -u admin:${REDACTED} localhost`],
          Interval: -5,
          Retries: 1.5,
        },
        StopSignal: "--privileged",
        StopTimeout: "30",
        ExposedPorts: { "80/tcp": {}, "--privileged": {}, "70000/tcp": {}, "53/udp": {} },
      }),
    );
    expect(flags(r.argv)).toEqual(["--expose=53/udp"]);
    expect(r.warnings).toEqual([
      "web: not carried over, set by hand if needed: healthcheck (its command was redacted in the backup), " +
        'stop signal "--privileged", stop timeout, exposed port "--privileged", exposed port "70000/tcp"',
    ]);
    expect(flags(rebuildDockerRun(web({ StopSignal: "9" })).argv)).toContain("--stop-signal=9");
    expect(flags(rebuildDockerRun(web({ StopSignal: "SIGRTMIN+3" })).argv)).toContain(
      "--stop-signal=SIGRTMIN+3",
    );
  });

  test("GPUs, a cgroup parent and block IO device limits are named, not carried", () => {
    const r = rebuildDockerRun(
      web(
        { Healthcheck: null, StopTimeout: null, ExposedPorts: null },
        {
          DeviceRequests: [{ Driver: "", Count: -1, Capabilities: [["gpu"]] }],
          CgroupParent: "/custom",
          BlkioDeviceReadBps: [{ Path: "/dev/sda", Rate: 1048576 }],
          BlkioWeightDevice: [],
        },
      ),
      { image: nginx },
    );
    expect(r.warnings).toEqual([
      "web: not carried over, set by hand if needed: GPUs and other device requests (--gpus), cgroup parent, block IO device limits",
    ]);
  });
});

test("the plan compares with the image this host has (state.images), by the name the container was run from", () => {
  const points = groupRestorePoints(unitBackup("web", "r1", "2026-01-01T10:00:00Z", ["web_data"]));
  const r = recipe({
    unit: "web",
    type: "standalone",
    workingDir: null,
    containers: [{ name: "web", image: "nginx:1.27" }],
    volumes: [{ name: "web_data", driver: "local", options: {}, labels: {}, usedBy: ["web"] }],
    networks: [],
  });
  r.inspects = { web: web() };
  r.networks = [];
  const plan = (images?: Record<string, Record<string, unknown>>) =>
    planRestore(
      request({ unit: "web", point: "web@r1-web", start: true }),
      points,
      emptyState({ recipe: r, ...(images ? { images } : {}) }),
    );
  const argv = (p: ReturnType<typeof plan>) =>
    p.start?.kind === "run" ? (p.start.containers[0]?.argv ?? []) : [];
  expect(argv(plan({ "nginx:1.27": nginx }))).not.toContain("--stop-signal=SIGQUIT");
  expect(argv(plan())).toContain("--stop-signal=SIGQUIT");
});
