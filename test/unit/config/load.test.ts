import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exitCodeFor } from "../../../src/cli.ts";
import { loadConfig, parseConfigText } from "../../../src/config/load.ts";
import { ConfigSchema } from "../../../src/config/schema.ts";
import { CONFIG_TEMPLATE } from "../../../src/config/template.ts";
import { ConfigError } from "../../../src/core/errors.ts";
import { tempDir } from "../../helpers/env.ts";

function issuesOf(text: string) {
  try {
    parseConfigText(text, "/etc/kopi-docka/config.toml");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect(exitCodeFor(e)).toBe(2);
    return { issues: (e as ConfigError).issues, message: (e as ConfigError).message };
  }
  throw new Error("expected a ConfigError");
}

describe("config defaults", () => {
  test("an empty file is the embedded default", () => {
    const c = parseConfigText("", "x");
    expect(c.repository).toMatchObject({ backend: "filesystem", path: "/var/lib/kopi-docka/repository" });
    expect(c.repository.password_file).toBe("/var/lib/kopi-docka/repository.password");
    expect(c.retention).toEqual({ latest: 10, hourly: 0, daily: 7, weekly: 4, monthly: 12, annual: 3 });
    expect(c.repository.compression).toBe("zstd");
    expect(c.backup.scope).toBe("standard");
    expect(c.backup.stop_timeout).toBe(30);
  });

  test("the config init template documents exactly the defaults", () => {
    expect(parseConfigText(CONFIG_TEMPLATE, "template")).toEqual(ConfigSchema.parse({}));
  });

  test("a [repository] table without backend means filesystem", () => {
    expect(parseConfigText('[repository]\npath = "/srv/repo"\n', "x").repository).toMatchObject({
      backend: "filesystem",
      path: "/srv/repo",
    });
  });

  test("per-unit overrides parse with their own defaults", () => {
    const c = parseConfigText('[units."my app"]\nexclude_volumes = ["cache"]\n', "x");
    expect(c.units["my app"]).toEqual({ exclude: false, exclude_volumes: ["cache"], stop: true });
  });
});

describe("config failures name the key, the file and the line", () => {
  test("path keys: no control characters, no .., never /; normalised", () => {
    const cases: [string, string][] = [
      ['[paths]\nlock_file = "/"\n', "must not be / (the host root)"],
      ['[paths]\nstate_dir = "//"\n', "must not be / (the host root)"],
      ['[paths]\nstate_dir = "/var/lib/../../etc"\n', "must not contain `..`"],
      ['[paths]\ncache_dir = "/var/cache\\nExecStartPre=/bin/sh"\n', "control characters"],
      ['[repository]\npassword_file = "/x\\u0000y"\n', "control characters"],
      ['[backup.hooks]\npre_backup = "/"\n', "must not be /"],
      ['[backup]\nhost_internal_paths = ["/proc", "/"]\n', "must not be /"],
    ];
    for (const [text, message] of cases) {
      const { issues } = issuesOf(text);
      expect(issues).toEqual([expect.objectContaining({ message: expect.stringContaining(message) })]);
    }
    const c = parseConfigText('[paths]\nstate_dir = "//var//lib/./kd/"\n', "x");
    expect(c.paths.state_dir).toBe("/var/lib/kd");
  });

  test("unknown key", () => {
    const { issues, message } = issuesOf("[retention]\ndaily = 3\ndialy = 4\n");
    expect(issues).toEqual([expect.objectContaining({ key: "retention.dialy", line: 3 })]);
    expect(message).toContain("/etc/kopi-docka/config.toml:3: retention.dialy: unknown key");
  });

  test.each<{ what: string; toml: string; issue: { key: string; line: number; message?: string } }>([
    { what: "unknown table", toml: '[repo]\npath = "/x"\n', issue: { key: "repo", line: 1 } },
    {
      what: "wrong type",
      toml: '[backup]\nstop_timeout = "30"\n',
      issue: { key: "backup.stop_timeout", line: 2, message: "expected number" },
    },
    {
      what: "out of range",
      toml: "[retention]\n\ndaily = -1\n",
      issue: { key: "retention.daily", line: 3, message: "must be at least 0" },
    },
    {
      what: "bad enum value lists the choices",
      toml: '[backup]\nscope = "everything"\n',
      issue: { key: "backup.scope", line: 2, message: 'must be one of "minimal", "standard", "full"' },
    },
    {
      what: "unsupported backend",
      toml: '[repository]\nbackend = "floppy"\n',
      issue: { key: "repository.backend", line: 2 },
    },
    {
      what: "relative path",
      toml: '[repository]\npath = "backups"\n',
      issue: { key: "repository.path", line: 2, message: "must be an absolute path" },
    },
  ])("$what", ({ toml, issue }) => {
    const { issues } = issuesOf(toml);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject(issue);
  });

  test("every issue is reported at once", () => {
    const { issues } = issuesOf('[retention]\ndaily = -1\nweekly = "x"\n[backup]\nscope = "x"\nfoo = 1\n');
    expect(issues.map((i) => [i.key, i.line])).toEqual([
      ["retention.daily", 2],
      ["retention.weekly", 3],
      ["backup.scope", 5],
      ["backup.foo", 6],
    ]);
  });

  test("quoted unit names and dotted keys are located", () => {
    const { issues } = issuesOf('[units."web app"]\nstop = true\nstopp = false\n');
    expect(issues[0]).toMatchObject({ key: "units.web app.stopp", line: 3 });
    const dotted = issuesOf("retention.daily = -2\n");
    expect(dotted.issues[0]).toMatchObject({ key: "retention.daily", line: 1 });
  });

  test("TOML syntax error gives line and column", () => {
    const { issues, message } = issuesOf('[backup]\nscope = "standard\n');
    expect(issues[0]?.line).toBe(2);
    expect(issues[0]?.column).toBeGreaterThan(0);
    expect(message).toContain("TOML syntax");
  });
});

describe("config file discovery", () => {
  test("a named file that does not exist is an error, not the default", () => {
    const dir = tempDir();
    try {
      expect(() => loadConfig(join(dir.path, "missing.toml"))).toThrow(/file not found/);
    } finally {
      dir.remove();
    }
  });

  test("KOPI_DOCKA_CONFIG names the file when --config does not", () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, "c.toml");
      writeFileSync(file, "[retention]\ndaily = 2\n");
      const loaded = loadConfig(undefined, { KOPI_DOCKA_CONFIG: file });
      expect(loaded.path).toBe(file);
      expect(loaded.config.retention.daily).toBe(2);
      // --config wins over the environment
      const other = join(dir.path, "d.toml");
      writeFileSync(other, "[retention]\ndaily = 5\n");
      expect(loadConfig(other, { KOPI_DOCKA_CONFIG: file }).config.retention.daily).toBe(5);
    } finally {
      dir.remove();
    }
  });

  test("a relative path is made absolute: it outlives this directory (DR bundle, systemd unit)", () => {
    const dir = tempDir();
    const cwd = process.cwd();
    try {
      writeFileSync(join(dir.path, "kd.toml"), "[retention]\ndaily = 3\n");
      process.chdir(dir.path);
      const loaded = loadConfig("./kd.toml", {});
      expect(loaded.path).toBe(join(dir.path, "kd.toml"));
      expect(loaded.expectedPath).toBe(join(dir.path, "kd.toml"));
    } finally {
      process.chdir(cwd);
      dir.remove();
    }
  });

  test("an unreadable path (a directory) is an error", () => {
    const dir = tempDir();
    try {
      const sub = join(dir.path, "conf.toml");
      mkdirSync(sub);
      expect(() => loadConfig(sub)).toThrow(ConfigError);
    } finally {
      dir.remove();
    }
  });
});
