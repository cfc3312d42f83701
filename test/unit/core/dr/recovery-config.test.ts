import { describe, expect, test } from "bun:test";
import { parse } from "smol-toml";
import { parseConfigText } from "../../../../src/config/load.ts";
import { snapshotHostname } from "../../../../src/config/resolve.ts";
import { bundleManifest } from "../../../../src/core/dr/contents.ts";
import { drillConfig } from "../../../../src/core/dr/drill-config.ts";
import { recoveryConfig } from "../../../../src/core/dr/recovery-config.ts";
import { isRecord } from "../../../../src/core/guards.ts";
import { bundleInput } from "./fixtures.ts";

const server = `# my server\n[repository]\nbackend = "server"\nurl = "https://kopia.example:51515"\nserver_cert_fingerprint = "${"a".repeat(64)}"\npassword_file = "/p"\n`;
const m = bundleManifest(bundleInput());
const table = (text: string, name: string): Record<string, unknown> => {
  const t = parse(text)[name];
  return isRecord(t) ? t : {};
};

describe("the config recover.sh puts back", () => {
  test("a repository server's config pins the old host's name: recovery on newhost logs in as old-host", () => {
    for (const text of [server, server.replace("password_file", 'hostname = ""\npassword_file')]) {
      const r = recoveryConfig(text, "old-host");
      // Key by key: the comments stay, one hostname line.
      expect(r.text).toStartWith("# my server\n[repository]\n");
      expect(r.text.match(/^hostname = .*$/gm)).toEqual(['hostname = "old-host"']);
      expect(snapshotHostname(parseConfigText(r.text, "x"), "newhost")).toBe("old-host");
      expect(r.notes).toEqual([
        expect.stringContaining('repository.hostname: the bundle\'s config pins it to "old-host"'),
      ]);
    }
  });

  test("the drill runs as the same user recovery logs in as, and refuses a server bundle that pins none", () => {
    const recovered = recoveryConfig(server, "old-host").text;
    const drill = drillConfig(recovered, m, "/tmp/d");
    expect(table(drill.configText, "repository").hostname).toBe("old-host");
    expect(
      table(drillConfig(`${server}hostname = "web1"\n`, m, "/tmp/d").configText, "repository").hostname,
    ).toBe("web1");
    // A bundle exported before the pin: the drill says so instead of passing where recovery fails.
    expect(() => drillConfig(server, m, "/tmp/d")).toThrow(/pins no \[repository\] hostname/);
  });

  test("a pinned host name, and any other backend, is left as it is", () => {
    for (const text of [`${server}hostname = "web1"\n`, '[repository]\npath = "/srv/repo"\n'])
      expect(recoveryConfig(text, "old-host")).toEqual({ text, notes: [] });
  });

  test("a kopia binary named by path becomes auto, in the bundle and so in the drill", () => {
    const text = '[kopia]\nbinary = "/opt/kopia/bin/kopia" # ours\n\n[repository]\npath = "/srv/repo"\n';
    const r = recoveryConfig(text, "old-host");
    expect(r.text).toBe('[kopia]\nbinary = "auto"\n\n[repository]\npath = "/srv/repo"\n');
    expect(r.notes).toEqual([expect.stringContaining("instead of /opt/kopia/bin/kopia")]);
    expect(table(drillConfig(r.text, m, "/tmp/d").configText, "kopia")).toEqual({ binary: "auto" });
    // The drill keeps [kopia] as the bundle has it: it proves the kopia recovery would run.
    expect(table(drillConfig(text, m, "/tmp/d").configText, "kopia").binary).toBe("/opt/kopia/bin/kopia");
    for (const binary of ["auto", "path", "embedded"]) {
      const kept = `[kopia]\nbinary = "${binary}"\n`;
      expect(recoveryConfig(kept, "h").text).toBe(kept);
    }
  });

  test("a layout the line editor does not know: the text stays, the note says what to set by hand", () => {
    const dotted = `repository.backend = "server"\nrepository.url = "https://k:1"\nrepository.server_cert_fingerprint = "${"a".repeat(64)}"\n`;
    const r = recoveryConfig(dotted, "old-host");
    expect(r.text).toBe(dotted);
    expect(r.notes).toEqual([
      expect.stringMatching(/^repository.hostname: set it to "old-host" in the config, then export again/),
    ]);
  });
});
