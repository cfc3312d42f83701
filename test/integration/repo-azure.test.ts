import { expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Azurite, accountSas, startAzurite } from "../helpers/azurite.ts";
import { run, startContainer, uniqueName } from "../helpers/env.ts";
import { sampleCommandLines } from "../helpers/processes.ts";
import { repositorySuite, type SuiteHandle } from "./repo-suite.ts";

let az: Azurite | undefined;

const base = (a: Azurite, container: string, prefix: string) =>
  `backend = "azure"\ncontainer = "${container}"\nstorage_account = "${a.account}"\n` +
  `storage_domain = "${a.domain}"\nprefix = "${prefix}"`;

/** Blob names in a container under a prefix, listed with the account key. */
async function blobs(a: Azurite, container: string, prefix: string): Promise<string[]> {
  const r = await a.request("GET", `/${container}`, {
    query: { comp: "list", prefix, restype: "container" },
  });
  return [...(await r.text()).matchAll(/<Name>([^<]+)<\/Name>/g)].map((m) => m[1] as string);
}

/**
 * A SAS token instead of the account key, through `sas_token_file` (kopia reads it from
 * AZURE_STORAGE_SAS_TOKEN): a round trip on a unit of its own; then an expired token and one signed with
 * another key, each refused with the token named, nothing written under their prefix, nothing stopped.
 */
function sasToken(h: SuiteHandle) {
  test("a SAS token (sas_token_file): init, a cold backup, restore, bytes equal; an expired or forged one is refused, nothing changed", async () => {
    const a = az as Azurite;
    const name = uniqueName("kdt-sas");
    const sasFile = (file: string, token: string) => {
      const path = join(h.dir, file);
      writeFileSync(path, `${token}\n`, { mode: 0o600 });
      return path;
    };
    const hour = 3_600_000;
    const good = accountSas(a.account, a.key, { expiry: new Date(Date.now() + hour) });
    const inside = async () =>
      (
        await run([
          ...["docker", "exec", name, "sh", "-c"],
          "cd /data && find . | sort | while read f; do stat -c '%n %a %u:%g %Y %s' \"$f\"; " +
            '[ -f "$f" ] && sha256sum "$f"; done',
        ])
      ).stdout;
    try {
      await startContainer(name, `${name}-v`);
      await run([
        ...["docker", "exec", name, "sh", "-c"],
        "cd /data && head -c 2000000 /dev/urandom > big.bin && echo sas > s.txt && chown 1000:1000 s.txt",
      ]);
      const before = await inside();
      const cfg = h.writeConfig(
        "sas",
        `${base(a, "kdt-sas", "sas/")}\nsas_token_file = "${sasFile("sas.token", good)}"`,
      );
      const init = await h.cli(cfg, "repo", "init");
      expect({ exit: init.exitCode, stderr: init.stderr }).toMatchObject({ exit: 0 });
      expect(init.stdout).toContain("created the repository at");
      const pending = h.cli(cfg, "backup", "--unit", name);
      const seen = await sampleCommandLines(pending);
      const backup = await pending;
      expect({ exit: backup.exitCode, stderr: backup.stderr }).toMatchObject({ exit: 0 });
      expect(await blobs(a, "kdt-sas", "sas/")).toContain("sas/kopia.repository");
      // the token: never in argv (ps during the backup), run records, kopia's logs (its own saved
      // connection, 0600, is kopia's to keep)
      expect([...seen].some((l) => /kopia .*snapshot create/.test(l))).toBe(true);
      for (const l of seen) expect(l).not.toContain(good);
      const sig = new URLSearchParams(good).get("sig") as string;
      const d = join(h.dir, "sas");
      for (const f of [join(d, "state", "runs"), join(d, "cache", "kopia-logs")].flatMap((x) =>
        readdirSync(x, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .map((e) => join(e.parentPath, e.name)),
      ))
        expect({ f, has: readFileSync(f, "latin1").includes(sig) }).toEqual({ f, has: false });
      await run(["docker", "rm", "-f", name]);
      await run(["docker", "volume", "rm", `${name}-v`]);
      const restore = await h.cli(cfg, "restore", "--unit", name, "--latest", "--yes", "--start");
      expect({ exit: restore.exitCode, stderr: restore.stderr }).toMatchObject({ exit: 0 });
      expect(await inside()).toBe(before);
      for (const out of [init, backup, restore]) expect(`${out.stdout}${out.stderr}`).not.toContain(good);

      const expired = accountSas(a.account, a.key, {
        start: new Date(Date.now() - 2 * hour),
        expiry: new Date(Date.now() - hour),
      });
      const forged = accountSas(a.account, Buffer.alloc(32, 7).toString("base64"), {
        expiry: new Date(Date.now() + hour),
      });
      for (const [label, token] of [
        ["expired", expired],
        ["forged", forged],
      ] as const) {
        const bad = h.writeConfig(
          `sas-${label}`,
          `${base(a, "kdt-sas", `sas-${label}/`)}\nsas_token_file = "${sasFile(`${label}.token`, token)}"`,
        );
        for (const args of [
          ["repo", "init"],
          ["backup", "--unit", h.container],
        ]) {
          const r = await h.cli(bad, ...args);
          expect({ label, args, exit: r.exitCode }).toEqual({ label, args, exit: 12 });
          expect(r.stderr).toMatch(/SAS token|sas_token/);
          expect(r.stderr).not.toContain(token);
        }
        expect(await blobs(a, "kdt-sas", `sas-${label}/`)).toEqual([]);
        await h.untouched();
      }
    } finally {
      await run(["docker", "rm", "-f", name], { check: false });
      await run(["docker", "volume", "rm", "-f", `${name}-v`], { check: false });
    }
  }, 300_000);
}

// Azurite over HTTPS on 127.x.y.z:443: kopia's azure client always builds https://<account>.<domain>/,
// so kopi-docka runs in a private mount namespace whose /etc/hosts maps that name to Azurite's address,
// and trusts the test's CA through SSL_CERT_FILE, which kopi-docka hands to kopia unchanged.
repositorySuite({
  title: "repository on Azure Blob (Azurite over HTTPS, account key)",
  env: (): Record<string, string> => (az ? { SSL_CERT_FILE: az.caFile } : {}),
  wrap: () => az?.wrap ?? [],
  extras: [
    sasToken,
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
    const a = await startAzurite(dir, ["kdt-bucket", "kdt-foreign", "kdt-sas"]);
    az = a;
    const keyFile = join(dir, "storage-key");
    writeFileSync(keyFile, `${a.key}\n`, { mode: 0o600 });
    const names = async () => {
      const r = await a.request("GET", "/kdt-foreign", { query: { comp: "list", restype: "container" } });
      return [...(await r.text()).matchAll(/<Name>([^<]+)<\/Name>/g)].map((m) => m[1]).join(",");
    };
    return {
      toml: `${base(a, "kdt-bucket", "host1/")}\nstorage_key_file = "${keyFile}"`,
      secrets: [a.key],
      withoutCredential: { toml: base(a, "kdt-bucket", "host1/"), key: "repository.storage_key_file" },
      async foreign() {
        const put = await a.request("PUT", "/kdt-foreign/theirs/report.csv", { body: "not kopia\n" });
        if (!put.ok) throw new Error(`could not put the foreign blob: ${put.status} ${await put.text()}`);
        return {
          toml: `${base(a, "kdt-foreign", "theirs/")}\nstorage_key_file = "${keyFile}"`,
          unchanged: async () => (await names()) === "theirs/report.csv",
        };
      },
      down: () => a.stop(),
      stop: () => a.stop(),
    };
  },
});
