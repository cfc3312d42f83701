import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repositorySuite } from "./repo-suite.ts";

let disk = "";

// A filesystem repository on a "backup disk" (a directory). Its server going down is the disk being
// unmounted: the path is gone, and a backup must say so instead of creating a new, empty repository.
repositorySuite({
  title: "repository on a filesystem path (a backup disk that can be unmounted)",
  downMessage: /there is no kopia repository at .*: is the disk mounted\?/,
  async start(dir) {
    disk = join(dir, "disk");
    mkdirSync(disk, { recursive: true });
    const base = (path: string) => `backend = "filesystem"\npath = "${path}"`;
    return {
      toml: base(join(disk, "repo")),
      secrets: [],
      withoutCredential: {
        toml: base(join(disk, "repo")),
        key: "repository.password_file",
        noPasswordFile: true,
      },
      async foreign() {
        const theirs = join(dir, "theirs");
        mkdirSync(theirs, { recursive: true });
        writeFileSync(join(theirs, "notes.txt"), "not kopia\n");
        return { toml: base(theirs), unchanged: async () => readdirSync(theirs).join(",") === "notes.txt" };
      },
      // "unmount": the disk's directory disappears; nothing may be created in its place
      down: async () => {
        renameSync(disk, `${disk}.unmounted`);
      },
      stillDown: async () => !existsSync(disk),
      stop: async () => {},
    };
  },
});
