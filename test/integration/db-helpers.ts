import { run } from "../helpers/env.ts";

/** PostgreSQL 15 and sqlite3 from Debian's packages (scripts/test-env.d/dump.sh builds it locally). */
export const DB_IMAGE = "kopi-docka-test/db:pg15-1";
/** MariaDB 10.11 from Debian's packages, built the same way. */
export const MARIA_IMAGE = "kopi-docka-test/mariadb:10.11-1";

/** Throws, naming the script that builds it, when a test image is missing. */
export async function requireImages(...images: string[]): Promise<void> {
  for (const img of images) {
    const image = await run(["docker", "image", "inspect", img], { check: false });
    if (image.exitCode !== 0) throw new Error(`${img} is missing: run scripts/test-env.sh`);
  }
}

/** A postgres container labelled for mode dump with the `postgres` preset, its data in `volume`. */
export async function startPostgres(name: string, volume: string): Promise<void> {
  await run([
    ...[
      "docker",
      "run",
      "-d",
      "--name",
      name,
      "--user",
      "postgres",
      "-v",
      `${volume}:/var/lib/postgresql/data`,
    ],
    ...["--label", "kopi-docka.mode=dump", "--label", "kopi-docka.dump=postgres", DB_IMAGE, "pg-start"],
  ]);
}

/** Polls `probe` (argv run inside `container`) until it exits 0, for up to 30 s. */
export async function waitReady(container: string, probe: string[]): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if ((await run(["docker", "exec", container, ...probe], { check: false })).exitCode === 0) return;
    await Bun.sleep(200);
  }
  throw new Error(`${container} did not get ready: \`${probe.join(" ")}\``);
}
