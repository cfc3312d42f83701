import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bundleEntries } from "../../../../src/core/dr/contents.ts";
import { sealBundle } from "../../../../src/core/dr/export.ts";
import { openingInstructions } from "../../../../src/core/dr/readme.ts";
import { tempDir } from "../../../helpers/env.ts";
import { bundleInput } from "./fixtures.ts";

/** One file of the bundle `bundleInput(over)` makes, as text. */
function bundleText(name: string, over: Parameters<typeof bundleInput>[0] = {}): string {
  const entry = bundleEntries(bundleInput(over)).find((e) => e.name === `kopi-docka-dr/${name}`);
  if (!entry) throw new Error(`no ${name} in the bundle`);
  return new TextDecoder().decode(entry.data);
}

/** The lines of a text that tell a person to run kopi-docka or install.sh. */
const commandLines = (text: string) =>
  text.split("\n").filter((l) => /(^|[;'"]\s*)\s*(kopi-docka [a-z]|sh install\.sh)/.test(l.trim()));

describe("README.txt and recover.sh pass the old host's config path to every command", () => {
  test("a config at a non-default path: install.sh, list, systemd install all name it", () => {
    const readme = bundleText("README.txt", { configPath: "/srv/kd/config.toml" });
    const lines = commandLines(readme);
    expect(
      lines.some((l) => l.includes("sh install.sh --with-deps --no-timer --config /srv/kd/config.toml")),
    ).toBe(true);
    expect(readme).toContain("     kopi-docka list --config /srv/kd/config.toml\n");
    expect(readme).toContain("     kopi-docka systemd install --config /srv/kd/config.toml\n");
    expect(lines.length).toBe(5); // install.sh, snapshots, restore, list, systemd install
    for (const l of lines) expect(l).toContain("--config /srv/kd/config.toml");
  });

  test("a path with a space is one quoted shell word", () => {
    const readme = bundleText("README.txt", { configPath: "/srv/my kd/config.toml" });
    expect(readme).toContain("kopi-docka systemd install --config '/srv/my kd/config.toml'\n");
  });

  test("the default path: install.sh and systemd install as they are by default", () => {
    const readme = bundleText("README.txt");
    expect(readme).toContain("sh install.sh --with-deps --no-timer\n");
    expect(readme).toContain("     kopi-docka systemd install\n");
  });

  test("recover.sh closes with step 4's commands, --config included", () => {
    const script = bundleText("recover.sh", { configPath: "/srv/kd/config.toml" });
    expect(script).toContain(
      "echo '  kopi-docka list --config /srv/kd/config.toml; kopi-docka systemd install --config /srv/kd/config.toml'\n",
    );
  });
});

describe("README.txt says how to give the services the variables the config reads", () => {
  test("with variables: secrets/env into a 0600 file, an EnvironmentFile= drop-in for both services, before systemd install", () => {
    const readme = bundleText("README.txt");
    const step = readme.slice(readme.indexOf("\n4. "), readme.indexOf("\n5. "));
    expect(step).toContain("install -D -m 600 secrets/env /etc/kopi-docka/env\n");
    expect(step).toContain("for s in kopi-docka-backup kopi-docka-freshness; do\n");
    expect(step).toContain(
      "printf '[Service]\\nEnvironmentFile=/etc/kopi-docka/env\\n' > /etc/systemd/system/$s.service.d/env.conf\n",
    );
    expect(step.indexOf("EnvironmentFile=")).toBeLessThan(step.indexOf("kopi-docka systemd install"));
    expect(bundleText("recover.sh")).toContain(
      "The nightly services need S3_SECRET too, before systemd install: README.txt, step 4.",
    );
  });

  test("the drop-in the step writes is what systemd reads: [Service] then EnvironmentFile=", () => {
    const readme = bundleText("README.txt");
    const printf = readme.split("\n").find((l) => l.includes("printf '[Service]"));
    const r = Bun.spawnSync(["sh", "-c", `s=kopi-docka-backup; ${printf?.trim().replace(/ > .*$/, "")}`]);
    expect(r.stdout.toString()).toBe("[Service]\nEnvironmentFile=/etc/kopi-docka/env\n");
  });

  test("without variables: no such step", () => {
    const readme = bundleText("README.txt", { env: [] });
    expect(readme).not.toContain("EnvironmentFile");
    expect(bundleText("recover.sh", { env: [] })).not.toContain("The nightly services need");
  });
});

describe("the bundle's .txt tells where the passphrase is", () => {
  const m = { host: "old-host", created: "2026-01-02T03:04:05.000Z" };

  test("generated: shown once when it was made", () => {
    expect(openingInstructions("/b/kd.age", m)).toContain("The passphrase was shown once when it was made");
  });

  test("from a passphrase file: that file, never 'shown once'", () => {
    const text = openingInstructions("/b/kd.age", m, true);
    expect(text).not.toContain("shown once");
    expect(text).toContain(
      "the one in the file given when it was made (--passphrase-file, or [dr]\npassphrase_file)",
    );
  });

  test("dr export with --passphrase-file writes that .txt", async () => {
    const dir = tempDir("kd-dr-txt-");
    const file = join(dir.path, "kd.age");
    const { instructions } = await sealBundle(bundleInput(), "a passphrase long enough", file, true);
    expect(readFileSync(`${file}.txt`, "utf8")).toBe(instructions);
    expect(instructions).not.toContain("shown once");
    dir.remove();
  }, 60_000); // age's scrypt takes seconds
});
