import { describe, expect, test } from "bun:test";
import { parseConfigText } from "../../../../src/config/load.ts";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import { UsageError } from "../../../../src/core/errors.ts";
import { answersFromFlags, checkFlags } from "../../../../src/core/setup/flags.ts";
import { renderSetupConfig, setKey } from "../../../../src/core/setup/render.ts";

const defaults = ConfigSchema.parse({});
const base = { keep: {}, paths: {} };

describe("setup answers", () => {
  test("without a terminal, what is missing is named by its flag", () => {
    const r = answersFromFlags({ ...base, passwordFile: "/nonexistent/kd.pw" }, defaults, {
      configPath: "/etc/kd.toml",
      configExists: false,
    });
    expect(r.missing).toEqual([
      "--repository-path DIR",
      "--password-file FILE (an existing password file; /nonexistent/kd.pw does not exist) or --generate-password",
      "--yes",
    ]);
  });

  test("flags override the current config; the rest stays as it was", () => {
    const current = ConfigSchema.parse({ repository: { path: "/srv/r" }, retention: { daily: 3 } });
    const r = answersFromFlags(
      {
        ...base,
        keep: { weekly: "9" },
        yes: true,
        generatePassword: true,
        schedule: true,
        paths: { state_dir: "/s" },
      },
      current,
      { configPath: "/c", configExists: true },
    );
    expect(r.missing).toEqual([]);
    expect(r.answers.repositoryPath).toBe("/srv/r");
    expect(r.answers.retention).toMatchObject({ daily: 3, weekly: 9 });
    expect(r.answers.onCalendar).toBe("*-*-* 02:00:00");
    expect(r.answers.paths.state_dir).toBe("/s");
    expect(r.answers.paths.cache_dir).toBe("/var/cache/kopi-docka");
  });

  test("bad flag values are usage errors before any question", () => {
    expect(() => checkFlags({ ...base, backend: "ftp" })).toThrow(/--backend ftp/);
    expect(() => checkFlags({ ...base, compression: "zip" })).toThrow(/--compression zip/);
    expect(() => checkFlags({ ...base, keep: { daily: "x" } })).toThrow(/--keep-daily/);
    expect(() => checkFlags({ ...base, repositoryPath: "rel" })).toThrow(
      /--repository-path must be an absolute/,
    );
  });

  test("--notify-url is parsed as a run would send to it; its error shows no token", () => {
    const bad = (() => {
      try {
        checkFlags({ ...base, notifyUrl: "ntfy://ntfy.example/s3cret-topic?x" });
        return checkFlags({ ...base, notifyUrl: "carrierpigeon://s3cret@example" });
      } catch (e) {
        return e;
      }
    })();
    expect(bad).toBeInstanceOf(UsageError);
    expect(String((bad as UsageError).message)).toStartWith("--notify-url carrierpigeon://");
    expect(JSON.stringify(bad) + String((bad as UsageError).message)).not.toContain("s3cret");
    expect((bad as UsageError).hint).toContain("{file:/path}");
    // Not resolved here: the service may have a variable this shell lacks, the file may come later.
    expect(() => checkFlags({ ...base, notifyUrl: `ntfys://ntfy.sh/$${"{KD_UNSET_TOPIC}"}` })).not.toThrow();
    // The parser's own advice is kept beside the token advice.
    expect((bad as UsageError).hint).toContain("use ntfy(s)://");
  });

  test("the rendered config is the commented template with the answers, and parses to them", () => {
    const a = answersFromFlags({ ...base, yes: true, generatePassword: true }, defaults, {
      configPath: "/c",
      configExists: false,
    }).answers;
    const text = renderSetupConfig({
      ...a,
      repositoryPath: '/srv/"odd" repo',
      onCalendar: "Mon..Fri 03:00",
      notifyUrl: "ntfys://ntfy.sh/t",
    });
    expect(text).toContain("# Where kopia keeps the backups");
    const c = parseConfigText(text, "x");
    expect(c.repository).toMatchObject({ path: '/srv/"odd" repo' });
    expect(c.schedule.on_calendar).toBe("Mon..Fri 03:00");
    expect(c.alerts.notify).toEqual([{ url: "ntfys://ntfy.sh/t", level: "failure" }]);
    expect(c.retention).toEqual(defaults.retention);
    expect(() => setKey(text, "repository", "nope", 1)).toThrow(/no repository.nope/);
  });
});

describe("setup on a backend other than filesystem", () => {
  const flags = (backend: string, values: Record<string, string>) => ({
    ...base,
    yes: true,
    generatePassword: true,
    backend,
    backendFlags: (f: string) => values[f],
  });

  test("the template's filesystem path is commented out: s3 and webdav configs parse", () => {
    // Before: `path = "/var/lib/kopi-docka/repository"` stayed under `backend = "s3"`, an unknown key
    // there, so every unattended setup on a backend without `path` failed.
    for (const [backend, values] of [
      ["s3", { "s3-bucket": "b", "s3-access-key-id": "k", "s3-secret-access-key-file": "/etc/kd/s3" }],
      ["webdav", { "webdav-url": "https://dav.example.org/kd" }],
    ] as const) {
      const a = answersFromFlags(flags(backend, values), defaults, { configPath: "/c", configExists: false });
      const text = renderSetupConfig(a.answers);
      expect(text).toContain('# path = "/var/lib/kopi-docka/repository"');
      expect(parseConfigText(text, "x").repository.backend).toBe(backend);
    }
  });

  test("a host moving from s3 to filesystem: the s3 keys are commented out, the config parses", () => {
    const text = `[repository]\nbackend = "s3"\nbucket = "b"\nendpoint = "minio:9000"\n`;
    const a = answersFromFlags(
      { ...base, yes: true, generatePassword: true, backend: "filesystem", repositoryPath: "/srv/r" },
      parseConfigText(text, "x"),
      { configPath: "/c", configExists: true },
    );
    const out = renderSetupConfig(a.answers, { text, notify: [] });
    expect(out).toContain('# bucket = "b"');
    expect(parseConfigText(out, "x").repository).toMatchObject({ backend: "filesystem", path: "/srv/r" });
  });
});

describe("setup re-run on a configured host", () => {
  const answers = answersFromFlags(
    { ...base, yes: true, generatePassword: true, repositoryPath: "/srv/new" },
    defaults,
    {
      configPath: "/c",
      configExists: true,
    },
  ).answers;

  test("the answers go into the host's own config; its units, hooks and comments stay", () => {
    const text = `# mine\n[repository]\npath = "/srv/old"\n\n[backup.hooks]\npre_backup = "/usr/local/bin/h"\n\n[units.db]\nexclude = true\n\n[[alerts.notify]]\nurl = "ntfy://a/b"\n`;
    const current = parseConfigText(text, "x");
    const out = renderSetupConfig(
      { ...answers, notifyUrl: "ntfy://c/d" },
      { text, notify: current.alerts.notify },
    );
    const c = parseConfigText(out, "x");
    expect(out.startsWith("# mine\n")).toBe(true);
    expect(c.repository).toMatchObject({ path: "/srv/new" });
    expect(c.backup.hooks.pre_backup).toBe("/usr/local/bin/h");
    expect(c.units.db?.exclude).toBe(true);
    expect(c.alerts.notify.map((t) => t.url)).toEqual(["ntfy://a/b", "ntfy://c/d"]);
    expect(c.retention).toEqual(defaults.retention);
  });

  test("an inline notify list keeps its targets; a URL already there is not added twice", () => {
    const text = `[alerts]\nnotify = [{ url = "ntfy://a/b", level = "always" }]\n`;
    const notify = parseConfigText(text, "x").alerts.notify;
    const twice = renderSetupConfig({ ...answers, notifyUrl: "ntfy://a/b" }, { text, notify });
    expect(parseConfigText(twice, "x").alerts.notify).toEqual([{ url: "ntfy://a/b", level: "always" }]);
    const more = renderSetupConfig({ ...answers, notifyUrl: "ntfy://x/y" }, { text, notify });
    expect(parseConfigText(more, "x").alerts.notify).toEqual([
      { url: "ntfy://a/b", level: "always" },
      { url: "ntfy://x/y", level: "failure" },
    ]);
  });
});
