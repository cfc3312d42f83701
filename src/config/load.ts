import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import type { z } from "zod";
import { errnoCode, errorMessage } from "../core/caught.ts";
import { ConfigError, type ConfigIssue } from "../core/errors.ts";
import { findKeyLine } from "./key-line.ts";
import { type Config, ConfigSchema } from "./schema.ts";
import { CONTROL_CHARS } from "./schema-fields.ts";

/** Where the config lives when neither `--config` nor KOPI_DOCKA_CONFIG names a file. */
export const DEFAULT_CONFIG_PATH = "/etc/kopi-docka/config.toml";

export interface LoadedConfig {
  config: Config;
  /** The file read, or undefined when running on the embedded default. */
  path: string | undefined;
  /** Where `config init` would write and what `config path` prints. */
  expectedPath: string;
}

/**
 * Picks the config file: an explicit `--config` or KOPI_DOCKA_CONFIG must exist (a typo must not fall
 * back to defaults silently); the default path is optional. An existing file that cannot be read is
 * an error, never a reason to use defaults (the Python original's "second config" bug).
 */
export function loadConfig(explicitPath: string | undefined, env = process.env): LoadedConfig {
  const named = explicitPath || env.KOPI_DOCKA_CONFIG || undefined;
  // Absolute: the path goes into what outlives this directory (a DR bundle, the systemd unit).
  const expectedPath = resolve(named ?? DEFAULT_CONFIG_PATH);
  if (CONTROL_CHARS.test(expectedPath)) {
    throw new ConfigError(JSON.stringify(expectedPath), [
      { key: "", message: "the config path holds a control character (newline, tab, NUL, …)" },
    ]);
  }
  if (!named && !existsSync(DEFAULT_CONFIG_PATH)) {
    return { config: ConfigSchema.parse({}), path: undefined, expectedPath };
  }
  let text: string;
  try {
    text = readFileSync(expectedPath, "utf8");
  } catch (e) {
    const code = errnoCode(e);
    const message =
      code === "ENOENT"
        ? "file not found"
        : code === "EACCES"
          ? "permission denied (run as root, or fix the file's mode)"
          : code === "EISDIR"
            ? "is a directory, not a config file"
            : errorMessage(e);
    const hint =
      code === "ENOENT"
        ? "create it with `kopi-docka config init`, or fix the path"
        : code === "EISDIR"
          ? `name the TOML file itself, e.g. ${expectedPath.replace(/\/+$/, "")}/config.toml`
          : undefined;
    throw new ConfigError(expectedPath, [{ key: "", message }], hint);
  }
  return { config: parseConfigText(text, expectedPath), path: expectedPath, expectedPath };
}

/** Parses and validates TOML text. Throws ConfigError listing every problem with its key and line. */
export function parseConfigText(text: string, file: string): Config {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (e) {
    if (e instanceof TomlError) {
      const message = e.message.split("\n")[0]?.replace(/^Invalid TOML document: /, "") ?? "syntax error";
      throw new ConfigError(file, [
        { key: "", message: `TOML syntax: ${message}`, line: e.line, column: e.column },
      ]);
    }
    throw e;
  }
  const result = ConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(
    file,
    result.error.issues.flatMap((i) => toIssues(i, text)),
  );
}

function toIssues(issue: z.core.$ZodIssue, text: string): ConfigIssue[] {
  const base = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => {
      const path = [...issue.path, k];
      return {
        key: [...base, k].join("."),
        message: "unknown key (check the spelling; see `kopi-docka config init` for all keys)",
        line: findKeyLine(text, path),
      };
    });
  }
  return [{ key: base.join("."), message: describe(issue), line: findKeyLine(text, issue.path) }];
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type") return `expected ${issue.expected}`;
  if (issue.code === "invalid_value")
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  if (issue.code === "invalid_union" && "options" in issue && Array.isArray(issue.options)) {
    return `must be one of ${issue.options.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  if (issue.code === "too_small") return `must be at least ${issue.minimum}`;
  if (issue.code === "too_big") return `must be at most ${issue.maximum}`;
  return issue.message;
}
