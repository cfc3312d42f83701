// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} and ${file:…} syntax
import { expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import { readSecretFile, resolveEachTarget, resolvePingUrl } from "../../../../src/core/alerts/resolve.ts";
import { parseEnvFile } from "../../../../src/core/dr/bundle-env.ts";
import { bundleEntries } from "../../../../src/core/dr/contents.ts";
import { gatherSecrets } from "../../../../src/core/dr/gather.ts";
import { alertReferences } from "../../../../src/core/dr/gather-alerts.ts";
import { tempDir } from "../../../helpers/env.ts";
import { bundleInput } from "./fixtures.ts";

test("the secrets alert URLs name are carried: after recovery every target and the heartbeat resolve", () => {
  const dir = tempDir("kd-dr-alerts-");
  const token = join(dir.path, "ntfy.token");
  const urlFile = join(dir.path, "gotify.url");
  writeFileSync(token, "tk-1\n", { mode: 0o600 });
  writeFileSync(urlFile, "gotify://push.example/${GOTIFY_TOKEN}\n", { mode: 0o600 });
  const alerts = {
    ping_url: "https://hc-ping.com/${HC_UUID}",
    notify: [{ url: `ntfy://ntfy.example/backups?token=\${file:${token}}` }, { url_file: urlFile }],
  };
  const environment = { HC_UUID: "uuid-1", GOTIFY_TOKEN: "gt-1", OTHER: "x" };
  const g = gatherSecrets({ repository: { password_file: "/p" }, alerts }, "/p", environment);
  expect(g.warnings).toEqual([]);
  expect(g.carried.map((f) => [f.key, f.path])).toEqual([
    ["alerts.notify.1.url_file", urlFile],
    ["alerts.notify.0.url", token],
  ]);
  expect(g.env.map((e) => [e.key, e.variable])).toEqual([
    ["alerts.ping_url", "HC_UUID"],
    ["alerts.notify.1.url_file", "GOTIFY_TOKEN"],
  ]);

  // The new host: the files recover.sh puts back, the variables it sources from secrets/env.
  const entries = bundleEntries(bundleInput({ carried: g.carried, env: g.env }));
  const file = (name: string) => entries.find((e) => e.name === `kopi-docka-dr/${name}`)?.data;
  rmSync(token);
  rmSync(urlFile);
  const script = new TextDecoder().decode(file("recover.sh"));
  for (const [i, f] of g.carried.entries()) {
    expect(script).toContain(`put 'secrets/files/0${i + 1}-${f.path.split("/").pop()}' '${f.path}'`);
    writeFileSync(f.path, file(`secrets/files/0${i + 1}-${f.path.split("/").pop()}`) ?? "", { mode: 0o600 });
  }
  const env = parseEnvFile(new TextDecoder().decode(file("secrets/env")));
  expect(env).toEqual({ HC_UUID: "uuid-1", GOTIFY_TOKEN: "gt-1" });
  const src = { env, readSecretFile };
  const config = ConfigSchema.parse({ alerts });
  const resolved = resolveEachTarget(config.alerts, src, "newhost");
  expect(resolved.problems).toEqual([]);
  expect(resolved.targets).toHaveLength(2);
  expect(resolvePingUrl(config.alerts, src)).toBe("https://hc-ping.com/uuid-1");
  dir.remove();
});

test("what the bundle cannot carry from an alert URL is a warning naming the key", () => {
  const alerts = {
    ping_url: "https://hc-ping.com/${HC_UUID}",
    notify: [{ url: "ntfy://n/${file:token.txt}?x=${my-token}" }, { url_file: "/etc/kd/unreadable" }],
  };
  const refs = alertReferences({ alerts }, () => {
    throw Object.assign(new Error("denied"), { code: "EACCES" });
  });
  expect(refs.warnings).toEqual([
    "alerts.notify.1.url_file: cannot read /etc/kd/unreadable (EACCES); the ${…} references in it are not in the bundle",
    "alerts.notify.0.url: ${file:token.txt} is not an absolute path; that file is not in the bundle",
    "alerts.notify.0.url: ${my-token} names no shell variable; its value is not in the bundle",
  ]);
  const g = gatherSecrets({ alerts: { ping_url: alerts.ping_url, notify: [] } }, "/p", {});
  expect(g.warnings).toEqual(["alerts.ping_url: $HC_UUID is not set; its value is not in the bundle"]);
});
