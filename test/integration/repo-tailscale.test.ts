import { expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { type SshServer, startSshd } from "../helpers/servers.ts";
import { sshLocations } from "./repo-ssh.ts";
import { repositorySuite } from "./repo-suite.ts";

// Tailscale cannot run here: a stub `tailscale`, first on PATH for kopi-docka only, answers
// `status --json` with a recorded status whose peer has 127.0.0.1 as its Tailscale IP, so sftp reaches
// the real OpenSSH sshd on loopback. Every call it gets is logged.
const FIXTURE = join(import.meta.dir, "..", "fixtures", "tailscale", "status.json");
const PEER = "peer.tailnet-x.ts.net";

let ssh: SshServer;
let root = "";
let stubDir = "";
const base = (path: string, peer = PEER) =>
  `backend = "tailscale"\npeer = "${peer}"\nport = ${ssh.port}\nuser = "${ssh.user}"\npath = "${path}"\n` +
  `known_hosts_file = "${ssh.knownHosts}"`;
const key = () => `\nkey_file = "${ssh.keyFile}"`;
const calls = () =>
  existsSync(join(stubDir, "calls.log")) ? readFileSync(join(stubDir, "calls.log"), "utf8") : "";

function writeStub(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const status = JSON.parse(readFileSync(FIXTURE, "utf8"));
  for (const node of Object.values(status.Peer) as { DNSName: string; TailscaleIPs: string[] }[])
    if (node.DNSName === `${PEER}.`) node.TailscaleIPs = ["127.0.0.1", "fd7a:115c:a1e0::6501:6667"];
  writeFileSync(join(dir, "status.json"), JSON.stringify(status, null, 2));
  const stub = join(dir, "tailscale");
  writeFileSync(
    stub,
    `#!/bin/sh\necho "$*" >> '${dir}/calls.log'\ncase "$1" in\n` +
      `  status) cat '${dir}/status.json' ;;\n` +
      `  ping) echo "pong from backup-nas (127.0.0.1) via 127.0.0.1:41641 in 2ms" ;;\n` +
      `  *) echo "stub: unexpected $*" >&2; exit 2 ;;\nesac\n`,
  );
  chmodSync(stub, 0o755);
}

repositorySuite({
  title: "repository on a tailnet peer (stub tailscale, OpenSSH sshd on loopback)",
  env: () => ({ PATH: `${stubDir}${delimiter}${process.env.PATH}` }),
  async start(dir) {
    ssh = await startSshd(join(dir, "sshd"));
    stubDir = join(dir, "tailscale-stub");
    writeStub(stubDir);
    root = join(dir, "remote");
    return sshLocations(ssh, root, (path) => base(path));
  },
  extras: [
    (h) =>
      test("repo status: the peer, its Tailscale IP, online, and one ping's latency", async () => {
        // the shared "changed location" test left this host disconnected
        const connect = await h.cli(join(h.dir, "host", "config.toml"), "repo", "connect");
        expect({ exit: connect.exitCode, stderr: connect.stderr }).toMatchObject({ exit: 0 });
        const r = await h.cli(join(h.dir, "host", "config.toml"), "repo", "status", "--json");
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
        expect(JSON.parse(r.stdout)).toMatchObject({
          backend: "tailscale",
          connected: true,
          peer: { name: PEER, address: "127.0.0.1", online: true, latencyMs: 2, via: "127.0.0.1:41641" },
        });
        expect(calls()).toContain(`ping --c 1 --timeout 5s ${PEER}\n`);
        const text = await h.cli(join(h.dir, "host", "config.toml"), "repo", "status");
        expect(text.stdout).toMatch(/tailnet peer:\s+peer\.tailnet-x\.ts\.net \(127\.0\.0\.1\) online, 2 ms/);
      }, 120_000),
    (h) =>
      test("an offline peer: exit 10 naming it, before any container is stopped", async () => {
        const before = calls().length;
        const cfg = h.writeConfig(
          "offline",
          `${base(join(root, "repo"), "sleepy.tailnet-x.ts.net")}${key()}`,
        );
        const r = await h.cli(cfg, "backup", "--unit", h.container);
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 10 });
        expect(r.stderr).toContain("tailnet peer sleepy.tailnet-x.ts.net is offline");
        expect(calls().slice(before)).toContain("status --json");
        expect(existsSync(join(h.dir, "offline", "state", "kopia", "repository.config"))).toBe(false);
        await h.untouched();
      }, 120_000),
    (h) =>
      test("an unknown peer: exit 10 naming it, nothing stopped", async () => {
        const cfg = h.writeConfig("unknown", `${base(join(root, "repo"), "nas.tailnet-x.ts.net")}${key()}`);
        const r = await h.cli(cfg, "backup", "--unit", h.container);
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 10 });
        expect(r.stderr).toContain("tailnet peer nas.tailnet-x.ts.net is not in this host's tailnet");
        await h.untouched();
      }, 120_000),
    (h) =>
      test("tailscale not installed: exit 14 naming it, nothing stopped", async () => {
        // PATH without the stub and without any real tailscale
        const path = (process.env.PATH ?? "")
          .split(delimiter)
          .filter((d) => d && !existsSync(join(d, "tailscale")))
          .join(delimiter);
        const cfg = h.writeConfig("notool", `${base(join(root, "repo"))}${key()}`);
        const r = await runCli(["backup", "--unit", h.container, "--config", cfg], {
          env: { KOPI_DOCKA_TEST_SOURCE: "1", PATH: path },
        });
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 14 });
        expect(r.stderr).toContain("needs `tailscale`, which is not on PATH");
        await h.untouched();
      }, 120_000),
  ],
});
