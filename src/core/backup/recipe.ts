import {
  closeSync,
  constants,
  cpSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Unit } from "../discovery/model.ts";
import { attributesOf, type FileAttributes } from "../snapshot/file-attributes.ts";
import { NETWORKS_JSON, PROJECT_FILE, RECIPE, storedComposeName } from "../snapshot/layout.ts";
import { redactDeep, redactInspect } from "../snapshot/redact.ts";
import { coverage } from "./coverage.ts";
import type { UnitPlan } from "./plan-model.ts";

/** Docker daemon config copied for scope "full", when present. */
export const DOCKER_CONFIG_PATHS = ["/etc/docker/daemon.json", "/etc/systemd/system/docker.service.d"];

/** Largest compose or project file kept in a recipe: these are text files, never data. */
const MAX_RECIPE_FILE_BYTES = 8 * 1024 * 1024;

/**
 * Copies `src` into the recipe at `stored` when it is a regular file of at most MAX_RECIPE_FILE_BYTES
 * and returns its mode, owner and mtime (the staged copy is 0600 root, so kopia keeps none of them);
 * undefined otherwise. Its path comes from a label or a project dir: a fifo there would block the run
 * (holding the host lock) for ever, a device would fill the cache. Opened without blocking, checked
 * on the descriptor it is read from, so nothing can be swapped in between.
 */
function copyRegularFile(src: string, dir: string, stored: string): FileAttributes | undefined {
  let fd: number;
  try {
    fd = openSync(src, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_RECIPE_FILE_BYTES) return undefined;
    writeFileSync(join(dir, stored), readFileSync(fd), { mode: 0o600 });
    return attributesOf(stored, st);
  } finally {
    closeSync(fd);
  }
}

/** Empties and re-creates a staging directory (0700: recipes may carry .env files). */
export function freshDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

const writeJson = (file: string, value: unknown) =>
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });

/**
 * Writes the recipe of one unit into `dir` (layout in ARCHITECTURE.md): unit.json, compose/NN-<name>,
 * project/<name>, inspect/<container>.json with secret env values redacted, coverage.json.
 */
export function stageRecipe(dir: string, unit: Unit, plan: UnitPlan, meta: { version: string }): void {
  freshDir(dir);
  mkdirSync(join(dir, RECIPE.composeDir));
  mkdirSync(join(dir, RECIPE.projectDir));
  mkdirSync(join(dir, RECIPE.inspectDir));
  const composeFiles: { labelPath: string; stored: string | null }[] = [];
  const fileAttributes: FileAttributes[] = [];
  unit.composeFiles.forEach((f, i) => {
    if (!f.found || !f.hostPath) {
      composeFiles.push({ labelPath: f.labelPath, stored: null });
      return;
    }
    const stored = storedComposeName(i, basename(f.hostPath));
    const copied = copyRegularFile(f.hostPath, dir, stored);
    if (copied) fileAttributes.push(copied);
    composeFiles.push({ labelPath: f.labelPath, stored: copied ? stored : null });
  });
  const projectDirs = new Set(
    unit.composeFiles.flatMap((f) => (f.found && f.hostPath ? [dirname(f.hostPath)] : [])),
  );
  for (const d of projectDirs) {
    for (const name of readdirSync(d)) {
      const src = join(d, name);
      if (!PROJECT_FILE.test(name) || existsSync(join(dir, RECIPE.projectDir, name))) continue;
      const copied = copyRegularFile(src, dir, `${RECIPE.projectDir}/${name}`);
      if (copied) fileAttributes.push(copied);
    }
  }
  for (const c of unit.containers)
    writeJson(join(dir, RECIPE.inspectDir, `${c.name}.json`), redactInspect(c.inspect));
  const timestamp = plan.sources[0]?.tags.timestamp;
  // Volume driver options and labels can hold a password (CIFS `o=…,password=…`).
  const unitJson = redactDeep({
    unit: unit.name,
    type: unit.type,
    workingDir: unit.workingDir ?? null,
    backup_id: plan.backupId,
    run_id: plan.sources[0]?.tags.run_id,
    timestamp,
    scope: plan.sources[0]?.tags.backup_scope,
    kopi_docka_version: meta.version,
    composeFiles,
    containers: unit.containers.map((c) => ({
      name: c.name,
      ...(c.compose ? { service: c.compose.service } : {}),
      image: c.image,
      imageId: c.imageId,
      imageDigests: c.imageDigests,
      running: c.running,
      restartPolicy: c.restartPolicy,
    })),
    volumes: unit.volumes.map(({ name, driver, options, labels, usedBy }) => ({
      name,
      driver,
      options,
      labels,
      usedBy,
    })),
    bindMounts: unit.bindMounts.map(({ source, targets, readOnly, kind }) => ({
      source,
      // kopia follows a symlink on the way to the source; restore follows only the one recorded here.
      ...realSourceOf(source),
      targets,
      readOnly,
      kind,
    })),
    networks: unit.networks.map((n) => n.name),
    fileAttributes,
  });
  writeJson(join(dir, RECIPE.unitJson), unitJson);
  writeJson(join(dir, RECIPE.coverage), coverage(unit, plan, composeFiles));
}

function realSourceOf(source: string): { realSource?: string } {
  try {
    const real = realpathSync(source);
    return real === source ? {} : { realSource: real };
  } catch {
    return {};
  }
}

/**
 * Writes networks.json (full `docker network inspect` objects, secrets redacted: a label or driver
 * option named like one) for one unit.
 */
export function stageNetworks(dir: string, unit: Unit): void {
  freshDir(dir);
  writeJson(
    join(dir, NETWORKS_JSON),
    unit.networks.map((n) => redactDeep(n.inspect)),
  );
}

/** Copies the docker daemon config; returns false when there is none on this host. */
export function stageDockerConfig(dir: string, paths: readonly string[] = DOCKER_CONFIG_PATHS): boolean {
  freshDir(dir);
  let found = false;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    cpSync(p, join(dir, basename(p)), { recursive: true, preserveTimestamps: true });
    found = true;
  }
  return found;
}
