import { type available, COMPOSE_V2_DOCKER_CONFIG, describeReal, type RunOptions, run } from "./env.ts";

/** One compose the compose tests run under; each test file runs its tests once per flavour. */
export interface Compose {
  name: "v1" | "v2";
  /** What describeReal checks before the tests run. */
  need: "compose" | "composeV2";
  /** The compose argv prefix. */
  command: readonly string[];
  /** Env of every process of the test that may run compose (compose itself and kopi-docka). */
  env: Record<string, string>;
  /** The config table that makes kopi-docka start stacks with this compose. */
  toml: string;
  /** The version compose writes into its labels. */
  version: string;
  /** The name compose gives the first container of a service. */
  container(project: string, service: string): string;
}

export const COMPOSES: readonly Compose[] = [
  {
    name: "v1",
    need: "compose",
    command: ["docker-compose"],
    env: {},
    toml: '\n[docker]\ncompose = "v1"\n',
    version: "1.29.2",
    container: (p, s) => `${p}_${s}_1`,
  },
  {
    name: "v2",
    need: "composeV2",
    command: ["docker", "compose"],
    env: { DOCKER_CONFIG: COMPOSE_V2_DOCKER_CONFIG },
    toml: '\n[docker]\ncompose = "v2"\n',
    version: "2.40.3",
    container: (p, s) => `${p}-${s}-1`,
  },
];

/** Runs `compose <args>` with the flavour's env (plus `opts.env`). */
export function runCompose(c: Compose, args: string[], opts: RunOptions = {}) {
  return run([...c.command, ...args], { timeoutMs: 120_000, ...opts, env: { ...c.env, ...opts.env } });
}

/** Lines in which compose complains about objects it finds but did not create (v1 and v2 wording). */
export function adoptionWarnings(stderr: string): string[] {
  return stderr.split("\n").filter((l) => /not created|incorrect label|declared as external/i.test(l));
}

/** `describeReal` once per compose, the flavour handed to the body; `needs` without the compose. */
export function describeCompose(
  name: string,
  needs: (keyof typeof available)[],
  body: (cmp: Compose) => void,
): void {
  for (const cmp of COMPOSES)
    describeReal(`${name} (compose ${cmp.name})`, [...needs, cmp.need], () => body(cmp));
}
