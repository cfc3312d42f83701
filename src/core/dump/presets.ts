import { redactArgv } from "../snapshot/redact.ts";

/**
 * Dump presets: a named pair of argv arrays, run inside the database container with `docker exec`.
 * The dump writes the whole database to stdout; the restore reads that stream on stdin and puts it
 * back. Only these names may come from a label; a command of one's own only from the config.
 */
export interface DumpCommands {
  dump: string[];
  restore: string[];
  /** The file name the stream is stored under inside the snapshot. */
  file: string;
  /** Exits 0 once the database takes connections (a restore waits for it after a start). */
  ready?: string[];
  /**
   * Where the database keeps its files in the container: a mount there (or above or inside it) is
   * left to the dump. Unset (a command of one's own): every volume of the container is.
   */
  dataDirs?: string[];
}

export const DUMP_PRESETS = ["postgres", "mysql", "mariadb", "mongo", "sqlite"] as const;
export type DumpPreset = (typeof DUMP_PRESETS)[number];

/** A preset's commands; `path` is the database file (sqlite only, where it is required). */
export function presetCommands(preset: DumpPreset, path?: string): DumpCommands | { problem: string } {
  switch (preset) {
    case "postgres":
      return {
        // --clean --if-exists: a restore replaces each database rather than adding to it.
        dump: ["pg_dumpall", "--clean", "--if-exists", "-U", "postgres"],
        restore: ["psql", "-X", "-q", "-U", "postgres", "-d", "postgres"],
        file: "pg_dumpall.sql",
        ready: ["pg_isready", "-q", "-U", "postgres"],
        dataDirs: ["/var/lib/postgresql/data"],
      };
    case "mysql":
    case "mariadb":
      return {
        dump: [
          preset === "mariadb" ? "mariadb-dump" : "mysqldump",
          "--all-databases",
          "--single-transaction",
          "--routines",
          "--events",
        ],
        restore: [preset === "mariadb" ? "mariadb" : "mysql"],
        file: "all-databases.sql",
        ready: [preset === "mariadb" ? "mariadb-admin" : "mysqladmin", "ping", "--silent"],
        dataDirs: ["/var/lib/mysql"],
      };
    case "mongo":
      return {
        dump: ["mongodump", "--archive"],
        restore: ["mongorestore", "--archive", "--drop"],
        file: "mongodump.archive",
        dataDirs: ["/data/db"],
      };
    case "sqlite": {
      if (!path) return { problem: 'the sqlite preset needs the database file: dump_path = "/data/app.db"' };
      const bad = dbPathProblem(path);
      if (bad) return { problem: `dump_path ${bad}` };
      return {
        dump: ["sqlite3", "-bail", path, ".dump"],
        // `.open --new` empties the file first: the dump's CREATE TABLEs would clash with the old ones.
        restore: ["sqlite3", "-bail", "-cmd", `.open --new ${path}`],
        file: "sqlite.sql",
        dataDirs: [path.slice(0, path.lastIndexOf("/")) || "/"],
      };
    }
  }
}

/** A database path inside a container: absolute, clean, no spaces or control characters. */
export function dbPathProblem(path: string): string | undefined {
  if (!path.startsWith("/")) return `${JSON.stringify(path)} is not absolute`;
  if (path.split("/").includes("..")) return `${JSON.stringify(path)} contains ..`;
  // A space would split the `.open` meta-command's argument; control characters have no place in a path.
  if (!/^\/[A-Za-z0-9_.\-/+@]*$/.test(path))
    return `${JSON.stringify(path)} has characters other than letters, digits and _ . - / + @`;
  return undefined;
}

/** Why an argv of one's own is unusable, or undefined: non-empty, no empty or control-character element. */
export function argvProblem(argv: readonly string[]): string | undefined {
  if (argv.length === 0) return "is empty";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (argv.some((a) => a.length === 0 || /[\u0000-\u001f\u007f]/.test(a)))
    return "has an empty element or control characters";
  if (argv[0]?.startsWith("-")) return "must start with the program, not an option";
  if (JSON.stringify(redactArgv(argv)) !== JSON.stringify(argv))
    return (
      "holds a secret, which would be on a command line every user of this host sees (ps); " +
      "give it to the container instead (its env, e.g. MYSQL_PWD or PGPASSWORD, or a file such as .pgpass)"
    );
  return undefined;
}

export function isDumpPreset(v: string | undefined): v is DumpPreset {
  return DUMP_PRESETS.some((p) => p === v);
}

/** True when a mount at `destination` holds (part of) a data directory: equal, above or inside it. */
export function holdsData(destination: string, dataDirs: readonly string[]): boolean {
  const d = destination.replace(/\/+$/, "") || "/";
  const within = (a: string, b: string) => a === b || b === "/" || a.startsWith(`${b}/`);
  return dataDirs.some((dir) => within(d, dir) || within(dir, d));
}
