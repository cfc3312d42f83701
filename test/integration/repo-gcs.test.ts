import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startGcs } from "../helpers/servers.ts";
import { repositorySuite } from "./repo-suite.ts";

let emulatorHost = "";

// fake-gcs-server on 127.0.0.1: kopia's GCS client (Google's storage library) talks to it because
// STORAGE_EMULATOR_HOST is in kopi-docka's environment, which kopi-docka hands to kopia unchanged.
repositorySuite({
  title: "repository on GCS (fake-gcs-server through STORAGE_EMULATOR_HOST)",
  env: () => ({ STORAGE_EMULATOR_HOST: emulatorHost }),
  async start(dir) {
    // foreign data is loaded at start (-data): an object the repository must never touch
    mkdirSync(join(dir, "gcs-data", "kdt-foreign", "theirs"), { recursive: true });
    writeFileSync(join(dir, "gcs-data", "kdt-foreign", "theirs", "notes.txt"), "not kopia\n");
    const gcs = await startGcs(dir, ["kdt-bucket"]);
    emulatorHost = gcs.emulatorHost;
    const base = (bucket: string, prefix: string) =>
      `backend = "gcs"\nbucket = "${bucket}"\nprefix = "${prefix}"`;
    return {
      toml: base("kdt-bucket", "host1/"),
      secrets: [],
      withoutCredential: {
        toml: `${base("kdt-bucket", "host1/")}\ncredentials_file = "${join(dir, "missing.json")}"`,
        key: "repository.credentials_file",
      },
      async foreign() {
        return {
          toml: base("kdt-foreign", "theirs/"),
          unchanged: async () => {
            const list = (await (
              await fetch(`http://${emulatorHost}/storage/v1/b/kdt-foreign/o`)
            ).json()) as {
              items?: { name: string }[];
            };
            return (list.items ?? []).map((o) => o.name).join(",") === "theirs/notes.txt";
          },
        };
      },
      down: () => gcs.stop(),
      stop: () => gcs.stop(),
    };
  },
});
