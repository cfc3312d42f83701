import { expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { QUICK_STOP, run, TEST_IMAGE } from "../helpers/env.ts";
import { type KopiaServer, kopiaServer } from "../helpers/servers.ts";
import { repositorySuite } from "./repo-suite.ts";

let server: KopiaServer;
const hostB = { name: "kd-host-b", password: `pw-b-${crypto.randomUUID()}` };
const toml = () =>
  `backend = "server"\nurl = "${server.url}"\nserver_cert_fingerprint = "${server.fingerprint}"`;

// `kopia server start` on loopback (generated TLS certificate) with two users: this host
// (kopi-docka@kd-test-host) and a second host (kopi-docka@kd-host-b) with its own config and state.
repositorySuite({
  title: "repository on a kopia repository server (two hosts)",
  oneLocation: true,
  async start(dir, password) {
    server = await kopiaServer(join(dir, "kopia-server"));
    await server.addUser("kopi-docka@kd-test-host", password);
    await server.addUser(`kopi-docka@${hostB.name}`, hostB.password);
    // Each user sees only its own snapshots; this host may also read the second host's.
    await server.acl(["enable"]);
    await server.acl([
      ...["add", "--user", "kopi-docka@kd-test-host", "--access", "READ"],
      ...["--target", `type=snapshot,hostname=${hostB.name}`],
    ]);
    await server.start();
    return {
      toml: toml(),
      secrets: [hostB.password],
      withoutCredential: { toml: toml(), key: "repository.password_file", noPasswordFile: true },
      down: () => server.stop(),
      stop: () => server.stop(),
    };
  },
  extras: [
    (h) =>
      test("maintenance is the server's: a backup neither runs it nor warns, status and repo maintenance say so", async () => {
        const config = join(h.dir, "host", "config.toml");
        // Its own container: the suite's must stay untouched for the last test.
        const own = `${h.container}-m`;
        try {
          await run([
            "docker",
            "run",
            "-d",
            "--name",
            own,
            "-v",
            `${own}-v:/data`,
            TEST_IMAGE,
            "sh",
            "-c",
            QUICK_STOP,
          ]);
          const backup = await h.cli(config, "backup", "--unit", own);
          expect({ exit: backup.exitCode, stderr: backup.stderr }).toMatchObject({ exit: 0 });
          expect(backup.stderr).not.toMatch(/maintenance failed|supported only on direct repository/);
          const runs = join(h.dir, "host", "state", "runs");
          const newest = readdirSync(runs).sort().at(-1) ?? "";
          expect(JSON.parse(readFileSync(join(runs, newest), "utf8")).errors).toEqual([]);
        } finally {
          await run(["docker", "rm", "-f", own], { check: false });
          await run(["docker", "volume", "rm", "-f", `${own}-v`], { check: false });
        }
        const status = JSON.parse((await h.cli(config, "repo", "status", "--json")).stdout);
        expect(status).toMatchObject({ connected: true, maintenanceByServer: true });
        expect(status.problem).toBeUndefined();
        expect((await h.cli(config, "repo", "status")).stdout).toMatch(
          /maintenance owner: +done by the server/,
        );
        const m = await h.cli(config, "repo", "maintenance");
        expect({ exit: m.exitCode, stderr: m.stderr }).toMatchObject({ exit: 2 });
        expect(m.stderr).toContain("done by the server");
      }, 300_000),
    (h) =>
      test("a fingerprint the server does not have, on a connected host: exit 10 naming the server's, nothing stopped, the connection kept", async () => {
        const config = join(h.dir, "host", "config.toml");
        const wrong = join(h.dir, "host", "wrong-fingerprint.toml");
        writeFileSync(wrong, readFileSync(config, "utf8").replace(server.fingerprint, "ab".repeat(32)));
        const r = await h.cli(wrong, "backup", "--unit", h.container);
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 10 });
        expect(r.stderr).toContain(`not the pinned one (server has SHA256 ${server.fingerprint})`);
        expect(r.stderr).toContain("update repository.server_cert_fingerprint; otherwise do not connect");
        expect(r.stderr).toContain(`the server certificate fingerprint of ${server.url} changed`);
        expect(r.stderr).not.toMatch(/is the server up|was https/);
        await h.untouched();
        const status = JSON.parse((await h.cli(wrong, "repo", "status", "--json")).stdout);
        expect(status.problem).toContain(
          `connected to ${server.url} with another server certificate fingerprint`,
        );
        // The attempt was made beside the saved connection: the right config opens without reconnecting.
        const again = await h.cli(config, "snapshots", "--json");
        expect({ exit: again.exitCode, stderr: again.stderr }).toMatchObject({ exit: 0 });
        expect(again.stderr).not.toMatch(/reconnecting|changed/);
      }, 120_000),
    (h) =>
      test("a second host backs up its own unit; this host sees it and restores it with --from-host, bytes equal", async () => {
        const b = h.writeConfig("host-b", toml(), { password: hostB.password, hostname: hostB.name });
        const other = `${h.container}-b`;
        const volume = `${other}-v`;
        try {
          await run(
            [
              "docker",
              "run",
              "-d",
              "--name",
              other,
              "-v",
              `${volume}:/data`,
              "kopi-docka-test/busybox:1",
            ].concat(["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]),
          );
          await run([
            "docker",
            "exec",
            other,
            "sh",
            "-c",
            "echo from-b > /data/b.txt && chmod 604 /data/b.txt",
          ]);
          const sum = async () =>
            (
              await run([
                "docker",
                "exec",
                other,
                "sh",
                "-c",
                "stat -c '%a %s' /data/b.txt; sha256sum /data/b.txt",
              ])
            ).stdout;
          const before = await sum();
          expect((await h.cli(b, "repo", "connect")).exitCode).toBe(0);
          const backup = await h.cli(b, "backup", "--unit", other);
          expect({ exit: backup.exitCode, stderr: backup.stderr }).toMatchObject({ exit: 0 });
          // Through the server's ACLs a host may write its own user@host policy, not the global one:
          // kopia's retention is switched off there, so [retention] keeps its restore points whole.
          expect(backup.stderr).toContain(
            `updating kopi-docka@${hostB.name}'s kopia policy: --keep-latest=0`,
          );
          expect(backup.stderr).not.toContain("policy not updated");

          const a = join(h.dir, "host", "config.toml");
          const points = JSON.parse((await h.cli(a, "snapshots", "--json", "--host", hostB.name)).stdout);
          expect(points.points.map((p: { unit: string }) => p.unit)).toEqual([other]);

          await run(["docker", "rm", "-f", other]);
          await run(["docker", "volume", "rm", volume]);
          const r = await h.cli(
            a,
            "restore",
            "--unit",
            other,
            "--latest",
            "--from-host",
            hostB.name,
            "--yes",
            "--start",
          );
          expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
          expect(await sum()).toBe(before);
        } finally {
          await run(["docker", "rm", "-f", other], { check: false });
          await run(["docker", "volume", "rm", "-f", volume], { check: false });
        }
      }, 300_000),
  ],
});
