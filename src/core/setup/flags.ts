import { existsSync } from "node:fs";
import type { Config } from "../../config/schema.ts";
import { COMPRESSIONS } from "../../config/schema-repository.ts";
import { maskUrl } from "../alerts/mask.ts";
import { parseTarget } from "../alerts/parse.ts";
import { errorMessage } from "../caught.ts";
import { AppError, UsageError } from "../errors.ts";
import { isOneOf, oneOf } from "../guards.ts";
import {
  backendOptions as backendOptionsOf,
  backendProblems,
  isRemote,
  REMOTE_BACKENDS,
  type RemoteBackend,
} from "./backends.ts";
import type { SetupAnswers } from "./model.ts";

const backendOptions_ = (b: RemoteBackend, f: SetupFlags) =>
  backendOptionsOf(b, f.backendFlags ?? (() => undefined));

/** setup's flags, as the command parsed them (strings: numbers are checked here). */
export interface SetupFlags {
  backend?: string;
  /** `--<backend>-<key>` values by flag name (see backends.ts). */
  backendFlags?: (flag: string) => string | undefined;
  repositoryPath?: string;
  passwordFile?: string;
  generatePassword?: boolean;
  hostname?: string;
  compression?: string;
  keep: Partial<Record<keyof Config["retention"], string>>;
  paths: Partial<Config["paths"]>;
  onCalendar?: string;
  /** true: install the timer; false (--no-schedule): don't; undefined: ask, or don't without a terminal. */
  schedule?: boolean;
  notifyUrl?: string;
  drBundle?: string;
  yes?: boolean;
}

export const DEFAULT_ON_CALENDAR = "*-*-* 02:00:00";

/** Flag values checked up front: a bad one is a usage error naming it, before any question. */
export function checkFlags(f: SetupFlags): void {
  if (f.backend && f.backend !== "filesystem" && !isRemote(f.backend))
    throw new UsageError(
      `--backend ${f.backend} is not a backend`,
      `backends: filesystem, ${REMOTE_BACKENDS.join(", ")}`,
    );
  if (f.compression && !isOneOf(COMPRESSIONS, f.compression))
    throw new UsageError(`--compression ${f.compression} is not one of ${COMPRESSIONS.join(", ")}`);
  for (const [k, v] of Object.entries(f.keep))
    if (v !== undefined && !/^\d{1,4}$/.test(v)) throw new UsageError(`--keep-${k} must be a number 0-1000`);
  const paths = Object.entries(f.paths).map(([k, v]) => [`--${k.replace("_", "-")}`, v] as const);
  for (const [flag, v] of [
    ["--repository-path", f.repositoryPath] as const,
    ["--password-file", f.passwordFile] as const,
    ...paths,
  ])
    if (v !== undefined && !v.startsWith("/")) throw new UsageError(`${flag} must be an absolute path`);
  if (f.notifyUrl !== undefined) notifyUrlProblem(f.notifyUrl);
}

/**
 * `--notify-url` parsed as a run would send to it: a URL no service takes is a usage error now, not a
 * silent night. Its `${VAR}` and `${file:…}` are not resolved here (the service may have a variable
 * this shell lacks, the file may come later): they stand in as a plain word.
 */
function notifyUrlProblem(url: string): void {
  try {
    parseTarget(url.replace(/\$\{[^}]*\}/g, "kdvalue"), "failure");
  } catch (e) {
    const hint = e instanceof AppError ? e.hint : undefined;
    throw new UsageError(
      `--notify-url ${maskUrl(url)}: ${errorMessage(e).replace(/^notification target \S+: /, "")}`,
      [
        hint,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${file:…} syntax, shown as is
        "a token in the URL is on the command line: write it to a 0600 file and pass --notify-url '${file:/path}' (or '${VAR}')",
      ]
        .filter(Boolean)
        .join("; "),
    );
  }
}

/**
 * Answers from flags and the current config alone (no terminal). What cannot be decided is listed by
 * the flag that would decide it; the caller turns a non-empty list into one usage error.
 */
export function answersFromFlags(
  f: SetupFlags,
  current: Config,
  o: { configPath: string; configExists: boolean },
): { answers: SetupAnswers; missing: string[] } {
  const missing: string[] = [];
  const backend = (f.backend ??
    (o.configExists ? current.repository.backend : "filesystem")) as SetupAnswers["backend"];
  const repositoryPath =
    backend !== "filesystem"
      ? ""
      : (f.repositoryPath ??
        (o.configExists && current.repository.backend === "filesystem" ? current.repository.path : ""));
  if (backend === "filesystem" && !repositoryPath) missing.push("--repository-path DIR");
  let backendOptions: Record<string, unknown> = {};
  if (isRemote(backend)) {
    const same = current.repository.backend === backend;
    const {
      backend: _b,
      password_file: _p,
      hostname: _h,
      compression: _c,
      cache_size_mb: _s,
      ...kept
    } = (same ? current.repository : {}) as Record<string, unknown>;
    backendOptions = { ...(same ? kept : {}), ...backendOptions_(backend, f) };
    missing.push(...backendProblems(backend, backendOptions));
  }
  const passwordFile = f.passwordFile ?? current.repository.password_file;
  const hasPassword = existsSync(passwordFile);
  if (!hasPassword && !f.generatePassword)
    missing.push(
      `--password-file FILE (an existing password file; ${passwordFile} does not exist) or --generate-password`,
    );
  if (!f.yes) missing.push("--yes");
  const retention = { ...current.retention };
  for (const [k, v] of Object.entries(f.keep))
    if (v !== undefined) retention[k as keyof typeof retention] = Number(v);
  return {
    missing,
    answers: {
      configPath: o.configPath,
      backend,
      repositoryPath,
      backendOptions,
      passwordFile,
      password: hasPassword ? { kind: "existing" } : { kind: "generate" },
      hostname: f.hostname ?? current.repository.hostname,
      compression: oneOf(COMPRESSIONS, f.compression) ?? current.repository.compression,
      retention,
      paths: { ...current.paths, ...Object.fromEntries(Object.entries(f.paths).filter(([, v]) => v)) },
      onCalendar:
        f.schedule === false
          ? undefined
          : (f.onCalendar ??
            (f.schedule ? (current.schedule.on_calendar ?? DEFAULT_ON_CALENDAR) : undefined)),
      notifyUrl: f.notifyUrl,
      drBundle: f.drBundle,
    },
  };
}
