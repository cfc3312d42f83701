import { expect } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Check } from "../../src/core/doctor.ts";
import type { SuiteHandle } from "./repo-suite.ts";

/** The private temp dirs of doctor's repository probe (`kopi-docka-repo-probe-<process>-XXXXXX`). */
const probeDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith("kopi-docka-repo-probe-"));

/**
 * `doctor --json` on a host that has no kopia connection yet (a fresh host after `setup`, a DR host):
 * its `repository` line. Whatever it says, kopi-docka's own connection was not made (no kopia config,
 * no marker) and the probe's temp dir is gone. `secrets` never appear in its output.
 */
export async function freshHostDoctor(
  h: SuiteHandle,
  config: string,
  secrets: string[] = [],
): Promise<Check> {
  const state = join(dirname(config), "state");
  const before = probeDirs();
  const r = await h.cli(config, "doctor", "--json");
  // Other checks may fail here (no backup timer): the repository line is the one looked at.
  expect(r.stdout).not.toBe("");
  const line = (JSON.parse(r.stdout).checks as Check[]).find((c) => c.id === "repository");
  if (!line) throw new Error(`doctor printed no repository line: ${r.stdout}`);
  expect(existsSync(join(state, "kopia", "repository.config"))).toBe(false);
  expect(existsSync(join(state, "repository.json"))).toBe(false);
  expect(probeDirs().filter((d) => !before.includes(d))).toEqual([]);
  for (const s of secrets) expect(`${r.stdout}${r.stderr}`).not.toContain(s);
  return line;
}
