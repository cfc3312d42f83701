import { describe, expect, test } from "bun:test";
import { bundleEntries } from "../../../../src/core/dr/contents.ts";
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
