import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Azurite, startAzurite } from "../helpers/azurite.ts";
import { repositorySuite } from "./repo-suite.ts";

let az: Azurite | undefined;

// Azurite over HTTPS on 127.x.y.z:443: kopia's azure client always builds https://<account>.<domain>/,
// so kopi-docka runs in a private mount namespace whose /etc/hosts maps that name to Azurite's address,
// and trusts the test's CA through SSL_CERT_FILE, which kopi-docka hands to kopia unchanged.
repositorySuite({
  title: "repository on Azure Blob (Azurite over HTTPS, account key)",
  env: (): Record<string, string> => (az ? { SSL_CERT_FILE: az.caFile } : {}),
  wrap: () => az?.wrap ?? [],
  extras: [
    () =>
      test("the repository's blobs are in Azurite's container under the prefix", async () => {
        const r = await (az as Azurite).request("GET", "/kdt-bucket", {
          query: { comp: "list", restype: "container" },
        });
        const names = [...(await r.text()).matchAll(/<Name>([^<]+)<\/Name>/g)].map((m) => m[1] as string);
        expect(names).toContain("host1/kopia.repository");
        expect(names.filter((n) => n.startsWith("host1/p")).length).toBeGreaterThan(0);
        expect(names.every((n) => n.startsWith("host1/"))).toBe(true);
      }),
  ],
  async start(dir) {
    mkdirSync(dir, { recursive: true });
    const a = await startAzurite(dir, ["kdt-bucket", "kdt-foreign"]);
    az = a;
    const keyFile = join(dir, "storage-key");
    writeFileSync(keyFile, `${a.key}\n`, { mode: 0o600 });
    const base = (container: string, prefix: string) =>
      `backend = "azure"\ncontainer = "${container}"\nstorage_account = "${a.account}"\n` +
      `storage_domain = "${a.domain}"\nprefix = "${prefix}"`;
    const names = async () => {
      const r = await a.request("GET", "/kdt-foreign", { query: { comp: "list", restype: "container" } });
      return [...(await r.text()).matchAll(/<Name>([^<]+)<\/Name>/g)].map((m) => m[1]).join(",");
    };
    return {
      toml: `${base("kdt-bucket", "host1/")}\nstorage_key_file = "${keyFile}"`,
      secrets: [a.key],
      withoutCredential: { toml: base("kdt-bucket", "host1/"), key: "repository.storage_key_file" },
      async foreign() {
        const put = await a.request("PUT", "/kdt-foreign/theirs/report.csv", { body: "not kopia\n" });
        if (!put.ok) throw new Error(`could not put the foreign blob: ${put.status} ${await put.text()}`);
        return {
          toml: `${base("kdt-foreign", "theirs/")}\nstorage_key_file = "${keyFile}"`,
          unchanged: async () => (await names()) === "theirs/report.csv",
        };
      },
      down: () => a.stop(),
      stop: () => a.stop(),
    };
  },
});
