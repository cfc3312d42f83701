import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../helpers/env.ts";
import { startWebdav, type TestServer } from "../helpers/servers.ts";
import { repositorySuite } from "./repo-suite.ts";

let server: TestServer;

// An rclone remote (type webdav, password obscured in its own rclone config) on a server on
// 127.0.0.1 (`rclone serve webdav`): kopia starts rclone itself with RCLONE_CONFIG from the config.
repositorySuite({
  title: "repository on an rclone remote (Debian's rclone, a remote served on loopback)",
  async start(dir) {
    const root = join(dir, "served");
    const password = `rc-${crypto.randomUUID()}`;
    server = await startWebdav(dir, root, "kd", password);
    const obscured = (
      await run(["rclone", "obscure", "-"], { stdin: password, env: { RCLONE_CONFIG: "/dev/null" } })
    ).stdout.trim();
    const conf = join(dir, "rclone.conf");
    writeFileSync(
      conf,
      `[kdremote]\ntype = webdav\nurl = http://127.0.0.1:${server.port}/\nvendor = other\nuser = kd\npass = ${obscured}\n`,
      { mode: 0o600 },
    );
    const base = (path: string, c = conf) =>
      `backend = "rclone"\nremote_path = "kdremote:${path}"\nconfig_file = "${c}"`;
    return {
      toml: base("repo"),
      secrets: [password, obscured],
      withoutCredential: {
        toml: base("repo", join(dir, "missing-rclone.conf")),
        key: "repository.config_file",
      },
      async foreign() {
        mkdirSync(join(root, "theirs"), { recursive: true });
        writeFileSync(join(root, "theirs", "notes.txt"), "not kopia\n");
        return {
          toml: base("theirs"),
          unchanged: async () => readdirSync(join(root, "theirs")).join(",") === "notes.txt",
        };
      },
      down: () => server.stop(),
      stop: () => server.stop(),
    };
  },
});
