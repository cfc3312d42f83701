import { readFileSync, statSync } from "node:fs";
import type { RepositoryConfig } from "../../config/schema.ts";
import { errnoCode } from "../caught.ts";
import { AppError } from "../errors.ts";
import type { Backend } from "./backend.ts";

/**
 * A `<key>_env` variable this process lacks: often set for the timer's runs only (systemd's
 * EnvironmentFile), so a command run by hand from a shell does not have it.
 */
export class UnsetSecretEnvError extends AppError {}

/** What the secrets of one backend become: kopia's env. */
export interface ResolvedSecrets {
  env: Record<string, string>;
}

/**
 * Files kopia (or rclone, or sshpass) reads itself that hold secrets (a private key, credentials, an
 * rclone config, an SFTP password): 0600 too.
 */
const SECRET_PATH_KEYS = ["key_file", "credentials_file", "config_file", "sftp_password_file"] as const;

/**
 * Reads every secret the configured backend needs, from `<key>_file` (must not be readable by group
 * or others) or from the environment variable `<key>_env` names. A missing or unsafe one is a config
 * error (exit 2) naming the key; nothing has been changed by then.
 */
export function resolveSecrets(
  repo: RepositoryConfig,
  backend: Backend,
  environ: Record<string, string | undefined> = process.env,
): ResolvedSecrets {
  // Each backend has its own keys; the ones read here (file paths, variable names) are strings.
  const values: Record<string, unknown> = { ...repo };
  const setting = (key: string) => (typeof values[key] === "string" ? values[key] : undefined);
  for (const key of SECRET_PATH_KEYS) {
    const file = setting(key);
    if (file) checkPrivate(file, `repository.${key}`);
  }
  const out: ResolvedSecrets = { env: { ...backend.env?.(repo) } };
  for (const slot of backend.secrets(repo)) {
    const file = setting(`${slot.key}_file`);
    const envName = setting(`${slot.key}_env`);
    let value: string | undefined;
    if (file) value = readSecretFile(file, `repository.${slot.key}_file`);
    else if (envName) {
      value = environ[envName]?.trim();
      if (!value)
        throw new UnsetSecretEnvError(
          "config",
          `repository.${slot.key}_env names ${envName}, which is not set or empty`,
          {
            hint: `export ${envName} in the environment kopi-docka runs in (for systemd: an EnvironmentFile), or use repository.${slot.key}_file`,
          },
        );
    }
    if (value === undefined) {
      if (!slot.required) continue;
      throw new AppError(
        "config",
        `the ${repo.backend} repository needs repository.${slot.key}_file or repository.${slot.key}_env`,
        { hint: `put the secret in a file (mode 0600) and set repository.${slot.key}_file to its path` },
      );
    }
    out.env[slot.env] = value;
  }
  return out;
}

function checkPrivate(file: string, key: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (e) {
    throw new AppError("config", `${key}: cannot read ${file} (${errnoCode(e)})`, {
      hint: `create ${file} or fix ${key}`,
    });
  }
  if ((mode & 0o077) !== 0)
    throw new AppError(
      "config",
      `${key}: ${file} is readable by other users (mode ${(mode & 0o777).toString(8)})`,
      { hint: `chmod 600 ${file}` },
    );
}

function readSecretFile(file: string, key: string): string {
  checkPrivate(file, key);
  const value = readFileSync(file, "utf8").trim();
  if (!value) throw new AppError("config", `${key}: ${file} is empty`, { hint: `put the secret in ${file}` });
  return value;
}
