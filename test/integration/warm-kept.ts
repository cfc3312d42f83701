import { expect } from "bun:test";
import { mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBackup } from "../../src/core/backup/run.ts";
import { run, TEST_IMAGE, uniqueName } from "../helpers/env.ts";
import { bareRestore, type coreDeps } from "./backup-helpers.ts";

/** Untouched files beside the racing writer's `w`: two directories of 32 KiB files. */
export const BULK_FILES = 300;
const BULK_SIZE = 32 * 1024;
/** Of them, how many `writeBulk(…, { changed: true })` rewrites. */
export const BULK_CHANGED = 100;

/**
 * Writes the bulk files under `mountpoint/bulk` with an mtime a minute back (older than the racy
 * margin, as files written earlier in the day); `changed` rewrites the first BULK_CHANGED with new bytes.
 */
export function writeBulk(mountpoint: string, o: { changed?: boolean } = {}): void {
  const past = new Date(Date.now() - 60_000);
  for (let i = 0; i < (o.changed ? BULK_CHANGED : BULK_FILES); i++) {
    const dir = join(mountpoint, "bulk", `d${i % 2}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `f${i}`);
    const line = `${o.changed ? "changed" : "bulk"} ${i} `;
    writeFileSync(file, line.repeat(Math.ceil(BULK_SIZE / line.length)).slice(0, BULK_SIZE));
    utimesSync(file, past, past);
  }
}

/** Every file under /a and /b with its sha256, listed inside a container that mounts both read-only. */
async function sumsInContainer(volume: string, restored: string): Promise<[string, string]> {
  const list = "for d in /a /b; do (cd $d && find . -type f | sort | xargs sha256sum); echo =====; done";
  const r = await run([
    "docker",
    "run",
    "--rm",
    "--name",
    uniqueName("kdt-warm-cmp"),
    "-v",
    `${volume}:/a:ro`,
    "-v",
    `${restored}:/b:ro`,
    TEST_IMAGE,
    "sh",
    "-c",
    list,
  ]);
  const [a = "", b = ""] = r.stdout.split("=====\n");
  return [a, b];
}

/**
 * One backup of `unit` (a warm-then-cold unit whose RACING_WRITER volume holds the bulk files): it must
 * end ok with its warm pass kept, less the files the writer rewrote while it read (`infos` is the run's
 * info log), the cold pass reading only those and taking every bulk file from the warm pass; restored,
 * the data equals the volume at stop time, compared inside a container. Returns what the cold pass read.
 */
export async function expectKeptWarmPass(
  deps: ReturnType<typeof coreDeps>,
  unit: string,
  volume: string,
  scratch: string,
  infos: string[],
): Promise<string> {
  infos.length = 0;
  const record = await runBackup(deps, { units: [unit] });
  expect({ status: record.status, errors: record.units[0]?.errors }).toEqual({ status: "ok", errors: [] });
  const id = record.units[0]?.sources.find((s) => s.type === "volume")?.snapshotId ?? "";
  expect(infos.filter((m) => m.includes("not used as the base"))).toEqual([]);
  expect(infos.some((m) => m.includes(`warm pass of ${volume}: `))).toBe(true);
  const cold = (await deps.kopia.snapshotList()).find((m) => m.id === id);
  const cached = Number(cold?.stats?.cachedFiles);
  const read = Number(cold?.stats?.nonCachedFiles);
  // Every bulk file came from a base; the writer's few (w/*, frozen) were read again.
  expect(cached).toBeGreaterThanOrEqual(BULK_FILES);
  expect(read).toBeLessThan(40);
  const target = join(scratch, `restored-${Date.now()}`);
  await bareRestore(deps, id, target);
  const [atStop, restored] = await sumsInContainer(volume, target);
  expect(restored.split("\n").length).toBeGreaterThan(BULK_FILES);
  expect(restored).toBe(atStop);
  rmSync(target, { recursive: true, force: true });
  return `${read} files read, ${cached} taken from a base`;
}
