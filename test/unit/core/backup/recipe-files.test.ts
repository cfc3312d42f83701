import { describe, expect, test } from "bun:test";
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import { stageNetworks, stageRecipe } from "../../../../src/core/backup/recipe.ts";
import { tempDir } from "../../../helpers/env.ts";
import { config, discovery, planOpts, stackUnit } from "./fixtures.ts";

// A compose file's path comes from a container label, its project files from that file's dir: only
// regular files of sane size are copied into the recipe. A fifo blocked the run (holding the host
// lock) for ever; a device would have filled the cache.
describe("stageRecipe: compose and project files", () => {
  const dir = tempDir("kd-recipe-files-");

  test("a fifo or a device named as a compose file is recorded as not found; regular files are copied", async () => {
    const project = join(dir.path, "project");
    mkdirSync(project);
    writeFileSync(join(project, "docker-compose.yml"), "services: {}\n");
    writeFileSync(join(project, ".env"), "A=1\n");
    const fifo = join(project, "blocking.yml");
    Bun.spawnSync(["mkfifo", fifo]);
    Bun.spawnSync(["mkfifo", join(project, "x.conf")]);
    const unit = {
      ...stackUnit(),
      composeFiles: [
        { labelPath: "docker-compose.yml", hostPath: join(project, "docker-compose.yml"), found: true },
        { labelPath: "blocking.yml", hostPath: fifo, found: true },
        { labelPath: "zero.yml", hostPath: "/dev/zero", found: true },
      ],
    };
    const plan = planBackup(config(), discovery(unit), new Date("2025-01-01T00:00:00Z"), planOpts).units[0];
    if (!plan) throw new Error("no plan");
    const stage = join(dir.path, "stage");
    stageRecipe(stage, unit, plan, { version: "9.9.9" });
    const json = JSON.parse(readFileSync(join(stage, "unit.json"), "utf8"));
    expect(json.composeFiles.map((f: { stored: string | null }) => f.stored !== null)).toEqual([
      true,
      false,
      false,
    ]);
    expect(readdirSync(join(stage, "project")).sort()).toEqual([".env"]);
    expect(existsSync(join(stage, json.composeFiles[0].stored))).toBe(true);
  });
});

// The staged copies are 0600 root (they may hold secrets), so kopia keeps neither the mode nor the
// owner of the admin's files: unit.json records them, with the mtime, for the restore to put back.
describe("stageRecipe: each file's mode, owner and mtime", () => {
  const dir = tempDir("kd-recipe-attrs-");

  test("recorded in unit.json's fileAttributes, permission bits only", () => {
    const project = join(dir.path, "project");
    mkdirSync(project);
    const compose = join(project, "docker-compose.yml");
    writeFileSync(compose, "services: {}\n", { mode: 0o644 });
    writeFileSync(join(project, "cfg.ini"), "[a]\n", { mode: 0o640 });
    // set-gid on a file a backup reads: never recorded, so never put back
    writeFileSync(join(project, "run.conf"), "x\n", { mode: 0o2750 });
    Bun.spawnSync(["chmod", "2750", join(project, "run.conf")]);
    expect(statSync(join(project, "run.conf")).mode & 0o7777).toBe(0o2750);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(join(project, "cfg.ini"), 1000, 1001);
    utimesSync(join(project, "cfg.ini"), 1_700_000_000, 1_700_000_000.5);
    const unit = {
      ...stackUnit(),
      composeFiles: [{ labelPath: "docker-compose.yml", hostPath: compose, found: true }],
    };
    const plan = planBackup(config(), discovery(unit), new Date("2025-01-01T00:00:00Z"), planOpts).units[0];
    if (!plan) throw new Error("no plan");
    const stage = join(dir.path, "stage");
    stageRecipe(stage, unit, plan, { version: "9.9.9" });
    const json = JSON.parse(readFileSync(join(stage, "unit.json"), "utf8"));
    const byName = Object.fromEntries(json.fileAttributes.map((a: { stored: string }) => [a.stored, a]));
    expect(Object.keys(byName).sort()).toEqual([
      "compose/01-docker-compose.yml",
      "project/cfg.ini",
      "project/run.conf",
    ]);
    expect(byName["compose/01-docker-compose.yml"].mode).toBe(0o644);
    expect(byName["project/cfg.ini"]).toMatchObject({ mode: 0o640, mtimeMs: 1_700_000_000_500 });
    if (asRoot) expect(byName["project/cfg.ini"]).toMatchObject({ uid: 1000, gid: 1001 });
    expect(byName["project/run.conf"].mode).toBe(0o750);
  });
});

describe("stageNetworks", () => {
  test("a network's secret labels and driver options are redacted in networks.json, the rest kept", () => {
    const dir = tempDir("kd-recipe-networks-");
    const unit = stackUnit();
    const [n] = unit.networks;
    if (!n) throw new Error("no network");
    n.inspect = {
      ...n.inspect,
      Labels: { "acme.api-token": "s3cret", "com.docker.compose.network": "default" },
      Options: { "plugin.password": "s3cret", "com.docker.network.bridge.name": "br-shop" },
    };
    stageNetworks(dir.path, unit);
    const text = readFileSync(join(dir.path, "networks.json"), "utf8");
    expect(text).not.toContain("s3cret");
    expect(JSON.parse(text)[0]).toMatchObject({
      Labels: { "acme.api-token": "***REDACTED***", "com.docker.compose.network": "default" },
      Options: { "plugin.password": "***REDACTED***", "com.docker.network.bridge.name": "br-shop" },
    });
    dir.remove();
  });
});
