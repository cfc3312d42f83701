import type { Config } from "../../config/schema.ts";

/** How the repository password comes to be. */
export type PasswordSource =
  /** The password file exists: its password is used (and must open an existing repository). */
  | { kind: "existing" }
  /** A new random password, written to the password file when setup commits. */
  | { kind: "generate" }
  /** Typed twice on the terminal; in memory only until setup commits. */
  | { kind: "typed"; value: string };

/** Everything setup asks, answered by flags, the wizard, or the current config. */
export interface SetupAnswers {
  configPath: string;
  backend: Config["repository"]["backend"];
  /** The filesystem backend's directory ("" for the others). */
  repositoryPath: string;
  /** Every other backend's keys (host, bucket, key_file, …), typed by its schema. */
  backendOptions: Record<string, unknown>;
  passwordFile: string;
  password: PasswordSource;
  hostname: string;
  compression: Config["repository"]["compression"];
  retention: Config["retention"];
  /** A systemd calendar expression; undefined: no timer installed. */
  onCalendar?: string;
  /** Where kopi-docka keeps its state, cache, lock and restored files (the current config's, or defaults). */
  paths: Config["paths"];
  /** Write a DR bundle here right after setup (the password then goes into it instead of onto the screen). */
  drBundle?: string;
  /** One notification target (failure level); undefined: none. */
  notifyUrl?: string;
}

/** What the location holds: a kopia repository to connect to, or nothing (a new one is made there). */
export type LocationState = "existing" | "new";
