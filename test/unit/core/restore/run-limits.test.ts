import { expect, test } from "bun:test";
import { runLimits } from "../../../../src/core/restore/run-limits.ts";

test("a plain docker run's defaults carry nothing and name nothing", () => {
  const plain = {
    Memory: 0,
    MemorySwap: 0,
    NanoCpus: 0,
    CpuShares: 0,
    PidsLimit: null,
    ShmSize: 67108864,
    Ulimits: [],
    ExtraHosts: null,
    Dns: [],
    DnsSearch: [],
    DnsOptions: [],
    LogConfig: { Type: "json-file", Config: {} },
    Tmpfs: null,
    Sysctls: null,
  };
  expect(runLimits(plain)).toEqual({ argv: [], notCarried: [] });
});

test("what docker 20.10 records for the usual flags comes back as those flags", () => {
  const r = runLimits({
    Memory: 67108864,
    MemoryReservation: 33554432,
    MemorySwap: 134217728,
    NanoCpus: 1500000000,
    CpuShares: 512,
    PidsLimit: 100,
    ShmSize: 33554432,
    Ulimits: [{ Name: "nofile", Hard: 2048, Soft: 1024 }],
    ExtraHosts: ["foo.local:10.1.2.3", "v6.local:fd00::1"],
    Dns: ["10.0.0.53"],
    DnsSearch: ["example.org"],
    DnsOptions: ["ndots:2"],
    LogConfig: { Type: "json-file", Config: { "max-file": "3", "max-size": "10m" } },
    Tmpfs: { "/run/x": "size=1m,mode=1777" },
    Sysctls: { "net.ipv4.ip_unprivileged_port_start": "80" },
  });
  expect(r.notCarried).toEqual([]);
  expect(r.argv).toEqual([
    "--memory=67108864",
    "--memory-reservation=33554432",
    "--cpu-shares=512",
    "--pids-limit=100",
    "--memory-swap=134217728",
    "--cpus=1.5",
    "--shm-size=33554432",
    "--ulimit=nofile=1024:2048",
    "--add-host=foo.local:10.1.2.3",
    "--add-host=v6.local:fd00::1",
    "--dns=10.0.0.53",
    "--dns-search=example.org",
    "--dns-option=ndots:2",
    "--sysctl=net.ipv4.ip_unprivileged_port_start=80",
    "--tmpfs=/run/x:size=1m,mode=1777",
    "--log-driver=json-file",
    "--log-opt=max-file=3",
    "--log-opt=max-size=10m",
  ]);
});

test("values a snapshot could craft are named, never passed", () => {
  const r = runLimits({
    Memory: "1g --privileged",
    NanoCpus: 1.5,
    PidsLimit: -5,
    MemorySwap: -2,
    Ulimits: [{ Name: "nofile --privileged", Soft: 1, Hard: 2 }],
    ExtraHosts: ["--privileged:1.2.3.4", "ok.local:not-an-ip"],
    Dns: ["8.8.8.8 --privileged"],
    DnsSearch: ["-x"],
    DnsOptions: ["ndots:2 x"],
    Sysctls: { "kernel.core_pattern": "|/tmp/x", "net.ipv4.ip_forward": "1\n--privileged" },
    Tmpfs: { "/x:/y": "", "/ok": "size=1m,exec;rm" },
    LogConfig: { Type: "json-file", Config: { "max-size": "10m --privileged", tag: "{{.Name}}" } },
  });
  expect(r.argv).toEqual(["--log-driver=json-file"]);
  expect(r.notCarried).toEqual([
    "memory limit",
    "pids limit",
    "memory+swap limit",
    "CPU limit",
    'ulimit "nofile --privileged"',
    'extra host "--privileged:1.2.3.4"',
    'extra host "ok.local:not-an-ip"',
    'DNS server "8.8.8.8 --privileged"',
    'DNS search domain "-x"',
    'DNS option "ndots:2 x"',
    "sysctl kernel.core_pattern",
    "sysctl net.ipv4.ip_forward",
    'tmpfs "/x:/y"',
    'tmpfs "/ok"',
    'log option "max-size"',
    'log option "tag"',
  ]);
});

test("a log driver that keeps logs on this host is carried; one that sends them elsewhere is named", () => {
  expect(runLimits({ LogConfig: { Type: "local", Config: { "max-size": "20m" } } }).argv).toEqual([
    "--log-driver=local",
    "--log-opt=max-size=20m",
  ]);
  expect(runLimits({ LogConfig: { Type: "none", Config: {} } }).argv).toEqual(["--log-driver=none"]);
  expect(runLimits({ LogConfig: { Type: "gelf", Config: { "gelf-address": "udp://x:1" } } })).toEqual({
    argv: [],
    notCarried: ['log driver "gelf"'],
  });
});
