import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exitCodeFor } from "../../../../src/cli.ts";
import { parseConfigText } from "../../../../src/config/load.ts";
import { connectReadOnly } from "../../../../src/core/dr/connect.ts";
import { backendOf } from "../../../../src/core/repository/backends/index.ts";
import { findPeer, parsePing, pingArgv, STATUS_ARGV } from "../../../../src/core/repository/tailscale-cli.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { kopiaOn } from "../../../helpers/kopia.ts";

const status = readFileSync(
  join(import.meta.dir, "..", "..", "..", "fixtures", "tailscale", "status.json"),
  "utf8",
);
const dir = tempDir("kdt-tailscale-");
afterAll(() => dir.remove());

/** Runs `fn` with a `tailscale` on PATH for Bun.which to find; the fake runner answers for it. */
async function withTailscaleOnPath(fn: () => Promise<void>): Promise<void> {
  const bin = join(dir.path, "tailscale");
  writeFileSync(bin, "#!/bin/sh\nexit 99\n");
  chmodSync(bin, 0o755);
  const oldPath = process.env.PATH;
  process.env.PATH = `${dir.path}:${oldPath}`;
  try {
    await fn();
  } finally {
    process.env.PATH = oldPath;
  }
}

describe("tailscale status --json", () => {
  test("finds a peer by its MagicDNS name, with or without the dot, or by its first label", () => {
    const want = { name: "peer.tailnet-x.ts.net", address: "100.101.102.103", online: true };
    expect(findPeer(status, "peer.tailnet-x.ts.net")).toEqual(want);
    expect(findPeer(status, "Peer.Tailnet-X.ts.net.")).toEqual(want);
    expect(findPeer(status, "peer")).toEqual(want);
    // the OS host name is not the MagicDNS name
    expect(findPeer(status, "backup-nas")).toBeUndefined();
  });
  test("an offline peer, an unknown one, and this host itself", () => {
    expect(findPeer(status, "sleepy.tailnet-x.ts.net")).toEqual({
      name: "sleepy.tailnet-x.ts.net",
      address: "100.88.1.9",
      online: false,
    });
    expect(findPeer(status, "nas.tailnet-x.ts.net")).toBeUndefined();
    expect(findPeer(status, "peer.other-tailnet.ts.net")).toBeUndefined();
    expect(findPeer(status, "web1")).toBeUndefined();
  });
  test("no peers at all (Peer null), tailscale logged out, and garbage", () => {
    const doc = JSON.parse(status);
    expect(findPeer(JSON.stringify({ ...doc, Peer: null }), "peer")).toBeUndefined();
    let err: unknown;
    try {
      findPeer(JSON.stringify({ ...doc, BackendState: "NeedsLogin" }), "peer");
    } catch (e) {
      err = e;
    }
    expect(exitCodeFor(err)).toBe(10);
    expect(String(err)).toContain("NeedsLogin");
    expect(() => findPeer("tailscaled not running", "peer")).toThrow(/not its status/);
  });
});

describe("tailscale ping", () => {
  test("direct, relayed (DERP) and sub-millisecond pongs; no pong", () => {
    expect(parsePing("pong from backup-nas (100.101.102.103) via 192.168.1.20:41641 in 3ms\n")).toEqual({
      latencyMs: 3,
      via: "192.168.1.20:41641",
    });
    expect(
      parsePing(
        "pong from backup-nas (100.101.102.103) via DERP(fra) in 41.5ms\ndirect connection not established\n",
      ),
    ).toEqual({ latencyMs: 41.5, via: "DERP(fra)" });
    expect(parsePing("pong from n (100.1.2.3) via 127.0.0.1:41641 in 250µs\n")?.latencyMs).toBe(0.3);
    expect(parsePing('ping "100.88.1.9" timed out\nno reply\n')).toBeUndefined();
  });
  test("argv: one ping, bounded; status as JSON", () => {
    expect(pingArgv("peer.tailnet-x.ts.net")).toEqual([
      ...["tailscale", "ping", "--c", "1", "--timeout", "5s", "peer.tailnet-x.ts.net"],
    ]);
    expect([...STATUS_ARGV]).toEqual(["tailscale", "status", "--json"]);
  });
});

describe("the tailscale backend", () => {
  const toml = `backend = "tailscale"\npeer = "peer.tailnet-x.ts.net"\nuser = "kopia"\npath = "/srv/r"\nkey_file = "/k/id"\nknown_hosts_file = "/k/kh"`;
  const repo = parseConfigText(`[repository]\n${toml}`, "x").repository;
  const b = backendOf(repo);

  test("a host key is refused as a config key (the peer names the host)", () => {
    expect(() => parseConfigText(`[repository]\n${toml}\nhost = "h"`, "x")).toThrow(/host/);
  });

  test("resolve: the peer's Tailscale IPv4 becomes the sftp host; offline and unknown are exit 10", async () => {
    await withTailscaleOnPath(async () => {
      const runner = new FakeRunner([], [{ argv: [...STATUS_ARGV], stdout: status }]);
      const resolved = await b.resolve?.(repo, { runner, env: {} });
      if (!resolved) throw new Error("no resolve");
      expect(b.storageArgs(resolved)).toEqual([
        ...["sftp", "--host", "100.101.102.103", "--port", "22", "--username", "kopia", "--path", "/srv/r"],
        ...["--known-hosts", "/k/kh", "--keyfile", "/k/id"],
      ]);
      expect(b.endpoint?.(resolved, {})).toEqual({ host: "100.101.102.103", port: 22 });
      expect(b.tools(resolved)).toEqual(["tailscale", "sftp"]);
      expect(b.describe(resolved)).toBe("sftp://kopia@peer.tailnet-x.ts.net:22/srv/r (tailnet)");
      const saved = {
        storage: {
          type: "sftp",
          config: { host: "100.101.102.103", port: 22, username: "kopia", path: "/srv/r" },
        },
      };
      expect(b.matches(saved, resolved)).toBe(true);
      for (const [peer, message] of [
        ["sleepy", "tailnet peer sleepy.tailnet-x.ts.net is offline"],
        ["nas.tailnet-x.ts.net", "tailnet peer nas.tailnet-x.ts.net is not in this host's tailnet"],
      ] as const) {
        const err = await b.resolve?.({ ...repo, peer } as typeof repo, { runner, env: {} }).catch((e) => e);
        expect(exitCodeFor(err)).toBe(10);
        expect(String(err)).toContain(message);
      }
    });
  });

  test("a read-only connection (dr drill, setup's password test) reaches the peer by its address, as backups do", async () => {
    await withTailscaleOnPath(async () => {
      const connect = (a: readonly string[]) => a.includes("connect");
      const runner = new FakeRunner(
        [
          { argv: [...STATUS_ARGV], stdout: status },
          { argv: connect, stdout: "" },
        ],
        [],
      );
      const kopia = kopiaOn(runner, dir.path);
      for (const f of ["id", "kh"]) writeFileSync(join(dir.path, f), "x\n", { mode: 0o600 });
      const here = { ...repo, key_file: join(dir.path, "id"), known_hosts_file: join(dir.path, "kh") };
      await connectReadOnly(kopia, here as typeof repo, { runner, environ: {} });
      const argv = runner.calls.find((c) => connect(c.argv))?.argv ?? [];
      expect(argv.join(" ")).toContain("--host 100.101.102.103");
      expect(argv).toContain("--readonly");
    });
  });
});
