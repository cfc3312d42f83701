import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startWebdav, type TestServer } from "../helpers/servers.ts";
import { repositorySuite } from "./repo-suite.ts";

let dav: TestServer;

// Debian's rclone serving a local directory over WebDAV (basic auth) on 127.0.0.1.
repositorySuite({
  title: "repository on WebDAV (rclone serve webdav on loopback)",
  async start(dir) {
    const root = join(dir, "dav");
    const password = `dav-${crypto.randomUUID()}`;
    dav = await startWebdav(dir, root, "kd", password);
    const pwFile = join(dir, "dav.password");
    writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    const base = (path: string) =>
      `backend = "webdav"\nurl = "http://127.0.0.1:${dav.port}/${path}"\nusername = "kd"`;
    return {
      toml: `${base("repo")}\nwebdav_password_file = "${pwFile}"`,
      secrets: [password],
      withoutCredential: { toml: base("repo"), key: "repository.webdav_password_file" },
      async foreign() {
        mkdirSync(join(root, "theirs"), { recursive: true });
        writeFileSync(join(root, "theirs", "notes.txt"), "not kopia\n");
        return {
          toml: `${base("theirs")}\nwebdav_password_file = "${pwFile}"`,
          unchanged: async () => readdirSync(join(root, "theirs")).join(",") === "notes.txt",
        };
      },
      down: () => dav.stop(),
      stop: () => dav.stop(),
    };
  },
});
