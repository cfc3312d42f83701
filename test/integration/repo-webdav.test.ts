import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startWebdav, type TestServer } from "../helpers/servers.ts";
import { repositorySuite } from "./repo-suite.ts";

let dav: TestServer;
let root = "";

// Debian's rclone serving a local directory over WebDAV (basic auth) on 127.0.0.1.
repositorySuite({
  title: "repository on WebDAV (rclone serve webdav on loopback)",
  async start(dir) {
    root = join(dir, "dav");
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
  extras: [
    (h) =>
      test("a wrong WebDAV password: repo init and backup exit 12 naming webdav_password_file, nothing written or stopped", async () => {
        const wrongPw = join(h.dir, "dav.wrong");
        writeFileSync(wrongPw, "not-the-dav-password\n", { mode: 0o600 });
        const cfg = h.writeConfig(
          "davwrong",
          `backend = "webdav"\nurl = "http://127.0.0.1:${dav.port}/refused"\nusername = "kd"\nwebdav_password_file = "${wrongPw}"`,
        );
        for (const args of [
          ["repo", "init"],
          ["backup", "--unit", h.container],
        ]) {
          const r = await h.cli(cfg, ...args);
          expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 12 });
          expect(r.stderr).toContain("refused the credentials");
          expect(r.stderr).toContain("repository.webdav_password_file");
          expect(r.stderr).not.toContain("Authorize");
        }
        expect(existsSync(join(root, "refused"))).toBe(false);
        expect(existsSync(join(h.dir, "davwrong", "state", "kopia", "repository.config"))).toBe(false);
        await h.untouched();
      }, 120_000),
  ],
});
