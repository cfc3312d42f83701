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
  /** Fed to the restore command after the dump, in the same session (sqlite's copy into the file). */
  restoreEnd?: string;
  /**
   * Where the database keeps its files in the container: a mount there (or above or inside it) is
   * left to the dump. Unset (a command of one's own): every volume of the container is.
   */
  dataDirs?: string[];
  /**
   * Files the database keeps (sqlite's file and its -wal, -shm, -journal): left out of the mount that
   * holds them, which is read as ever (an app's attachments and keys beside its database).
   */
  dataFiles?: string[];
}

export const DUMP_PRESETS = ["postgres", "mysql", "mariadb", "mongo", "sqlite"] as const;
export type DumpPreset = (typeof DUMP_PRESETS)[number];

/** The postgres preset's restore command, connected to `database` (`postgres`, unless it is missing). */
const psqlInto = (database: string) => ["psql", "-X", "-q", "-U", "postgres", "-d", database];

/** A preset's commands; `path` is the database file (sqlite only, where it is required). */
export function presetCommands(preset: DumpPreset, path?: string): DumpCommands | { problem: string } {
  switch (preset) {
    case "postgres":
      return {
        // --clean --if-exists: a restore replaces each database rather than adding to it.
        dump: ["pg_dumpall", "--clean", "--if-exists", "-U", "postgres"],
        restore: psqlInto("postgres"),
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
        // --stopOnError: without it mongorestore goes past documents it cannot insert and exits 0.
        restore: ["mongorestore", "--archive", "--drop", "--stopOnError"],
        file: "mongodump.archive",
        dataDirs: ["/data/db"],
      };
    case "sqlite": {
      if (!path) return { problem: 'the sqlite preset needs the database file: dump_path = "/data/app.db"' };
      const bad = dbPathProblem(path);
      if (bad) return { problem: `dump_path ${bad}` };
      return {
        // -readonly: a wrong path fails ("unable to open database") instead of creating an empty
        // database there and dumping it as a good one.
        dump: ["sqlite3", "-bail", "-readonly", path, ".dump"],
        // The dump is loaded into an in-memory database first; only when all of it loaded (-bail stops
        // at the first error) does `.backup` copy it into the file, through SQLite's backup API: under
        // the file's locks, into the same inode (owner, mode and the app's open connections keep
        // working, its WAL stays), where deleting and re-creating the file left a running app on the
        // old one and the new one owned by the exec user.
        restore: ["sqlite3", "-bail"],
        restoreEnd: `\n.timeout 10000\n.backup main ${path}\n`,
        file: "sqlite.sql",
        dataDirs: [],
        dataFiles: ["", "-wal", "-shm", "-journal"].map((suffix) => `${path}${suffix}`),
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

/**
 * What a preset's restore does around the dump so that it replaces the data or fails: a prelude that
 * ends the other sessions (a connected app blocks or breaks the replacement), and for a command that
 * reports a failed statement and goes on, exiting 0, the failures read from stderr. `psql` runs a
 * script to its end, and a pg_dumpall `--clean` script fed into a running server always has
 * statements that fail harmlessly (it drops and re-creates the role it connects as), so
 * `ON_ERROR_STOP` cannot be used: any failure but those fails the restore. The one that matters most:
 * `DROP DATABASE` refused while a client is connected; the old database then stays, the dump's tables
 * and rows clash with it, and the data is not the backup's.
 */
export interface RestoreGuard {
  /** Fed to the restore command before the dump, in the same session. */
  prelude: string;
  /**
   * The database the restore command connects to, `name`, may be missing: asked right before the
   * feed, `probe` exits 0 printing `0` when it is. The feed then runs `restore` (connected to
   * another) with `create` ahead of the prelude: it makes the database and connects to it.
   */
  missingDatabase?: { name: string; probe: string[]; restore: string[]; create: string };
  /** The restore command's environment: what makes its messages the ones matched below. */
  env?: Record<string, string>;
  /**
   * How the restore command reports a failed statement: the restore's error names those it read. A
   * command that goes on past one and exits 0 fails the restore with any but the expected ones.
   */
  errors?: {
    /** A stderr line reporting a failed statement; group 1 is the message. */
    line: RegExp;
    /** Messages of statements expected to fail when the dump goes into a running server. */
    benign: readonly RegExp[];
    /** What to do about a failure whose message matches `when` (the restore's hint). */
    remedies: readonly { when: RegExp; hint: string }[];
  };
}

export const RESTORE_GUARDS: Partial<Record<DumpPreset, RestoreGuard>> = {
  postgres: {
    // The dump drops and re-creates every database it holds: other sessions (the app's pool) are
    // ended first, in the same psql session, so the DROP follows at once.
    prelude:
      "-- kopi-docka: end the other sessions: a database with a client connected cannot be dropped\n" +
      "DO $$ BEGIN PERFORM pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity " +
      "WHERE pid <> pg_catalog.pg_backend_pid() AND datname IS NOT NULL; END $$;\n",
    // `postgres` is gone when an admin dropped it or a feed was cut short between the dump's
    // `DROP DATABASE postgres` and its CREATE: psql -d postgres would fail at once, undo point
    // included. psql connects to template1 then, as pg_dumpall does, and makes `postgres` before the
    // dump runs (template0: template1 is in use by this session). Left connected to template1, the
    // dump's `DROP DATABASE template1` (its first database) would fail as the open one and the old
    // template1 stay; the `postgres` made here is dropped and re-created by the dump, as it was.
    missingDatabase: {
      name: "postgres",
      probe: [
        ...psqlInto("template1"),
        "-tAc",
        "SELECT count(*) FROM pg_catalog.pg_database WHERE datname = 'postgres'",
      ],
      restore: psqlInto("template1"),
      create:
        "-- kopi-docka: postgres is missing: made here, then dropped and re-created by the dump\n" +
        "CREATE DATABASE postgres TEMPLATE template0;\n\\connect postgres\n",
    },
    // The server words its messages in its own language: English for every connection psql opens
    // (PGOPTIONS is sent again on each `\connect` of the dump), so they can be matched.
    env: { PGOPTIONS: "-c lc_messages=C" },
    errors: {
      line: /^(?:psql:.*?:\d+: )?(?:ERROR|FATAL):\s+(.*)$/,
      benign: [
        /^current user cannot be dropped$/,
        /^role ".*" already exists$/,
        /^role ".*" cannot be dropped because some objects depend on it$/,
        // pg_dump writes `DROP DATABASE template1;` without IF EXISTS whatever --if-exists says (it
        // takes template1 to exist), and CREATE DATABASE template1 follows at once: gone before (a
        // feed cut short after that DROP, an admin), it is made there. A CREATE that fails says so.
        /^database "template1" does not exist$/,
      ],
      remedies: [
        {
          when: /is being accessed by other users/,
          hint: "a client connected again while the dump was fed: stop the containers that use this database, then restore again",
        },
      ],
    },
  },
  // The dump drops and re-creates each table it holds: a session with a transaction open on one makes
  // that DROP wait (lock_wait_timeout: a year by default). Other sessions are ended first; the
  // client stops at the first failed statement by itself. MariaDB 10.3 or later (FOR ... DO).
  mariadb: {
    prelude:
      "-- kopi-docka: end the other sessions: a table a transaction has open cannot be dropped\n" +
      "DELIMITER //\n" +
      "BEGIN NOT ATOMIC\n" +
      "  DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;\n" +
      "  FOR s IN (SELECT id FROM information_schema.processlist WHERE id <> CONNECTION_ID() " +
      "AND command NOT IN ('Daemon', 'Binlog Dump', 'Binlog Dump GTID') AND user <> 'system user') DO\n" +
      "    EXECUTE IMMEDIATE CONCAT('KILL CONNECTION ', s.id);\n" +
      "  END FOR;\n" +
      "END//\n" +
      "DELIMITER ;\n",
    // The client prints the failed statement above its error (--print-query-on-error): the error
    // line is what the restore's message names, with the dump's line number.
    errors: { line: /^(ERROR \d+ \(\w+\)(?: at line \d+)?: .*)$/, benign: [], remedies: [] },
  },
};

/**
 * How a preset's dump that went wrong can end although its command exits 0: `sqlite3 .dump` of a
 * damaged database writes what it could read and ends in `ROLLBACK; -- due to errors`, which,
 * restored after `.open --new`, leaves an empty database.
 */
export const TORN_DUMP_ENDINGS: Partial<Record<DumpPreset, string>> = {
  sqlite: "ROLLBACK; -- due to errors",
};

/**
 * What every dump of a preset holds when its database holds anything: sqlite's dump of an empty
 * file is a valid 47-byte script with no table in it (a file created at a wrong `dump_path`, kept
 * as a good restore point while the real database went unsaved).
 */
export const NON_EMPTY_DUMP_MARKS: Partial<Record<DumpPreset, RegExp>> = {
  sqlite: /\bCREATE (TABLE|VIEW|INDEX|TRIGGER)\b/,
};

export function isDumpPreset(v: string | undefined): v is DumpPreset {
  return DUMP_PRESETS.some((p) => p === v);
}

/**
 * A mount at `destination` and the database's own files: `held` when the mount is one of them (a
 * single-file bind), else the ones inside it as kopia ignore rules anchored at its root.
 */
export function dataFileRules(
  destination: string,
  files: readonly string[],
): { held: boolean; rules: string[] } {
  const d = destination.replace(/\/+$/, "") || "/";
  const prefix = d === "/" ? "/" : `${d}/`;
  return {
    held: files.includes(d),
    rules: files.filter((f) => f.startsWith(prefix)).map((f) => `/${f.slice(prefix.length)}`),
  };
}

/** True when a mount at `destination` holds (part of) a data directory: equal, above or inside it. */
export function holdsData(destination: string, dataDirs: readonly string[]): boolean {
  const d = destination.replace(/\/+$/, "") || "/";
  const within = (a: string, b: string) => a === b || b === "/" || a.startsWith(`${b}/`);
  return dataDirs.some((dir) => within(d, dir) || within(dir, d));
}
