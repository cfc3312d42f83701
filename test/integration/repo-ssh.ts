import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SshServer } from "../helpers/servers.ts";
import type { BackendUnderTest } from "./repo-suite.ts";

/**
 * The shared suite's locations on an OpenSSH sshd (sftp, tailscale): under `root`, key auth. `base(path)`
 * is the backend's `[repository]` body for a path without the key, so leaving the key out is the
 * missing credential.
 */
export function sshLocations(ssh: SshServer, root: string, base: (path: string) => string): BackendUnderTest {
  mkdirSync(root, { recursive: true });
  const key = `\nkey_file = "${ssh.keyFile}"`;
  return {
    toml: `${base(join(root, "repo"))}${key}`,
    // the private key's body must not leak either (kopia reads the file itself)
    secrets: readFileSync(ssh.keyFile, "utf8")
      .split("\n")
      .filter((l) => l.length > 40),
    withoutCredential: { toml: base(join(root, "repo")), key: "repository.key_file" },
    async foreign() {
      const theirs = join(root, "theirs");
      mkdirSync(theirs, { recursive: true });
      writeFileSync(join(theirs, "notes.txt"), "not kopia\n");
      return {
        toml: `${base(theirs)}${key}`,
        unchanged: async () => readdirSync(theirs).join(",") === "notes.txt",
      };
    },
    down: () => ssh.stop(),
    stop: () => ssh.stop(),
  };
}
