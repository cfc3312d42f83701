import type { Exec } from "./inspect.ts";

/**
 * Finding and removing the objects a throwaway restore made (`dr drill`): everything it creates is
 * named `<prefix>_…`, so a prefix unique to the run selects exactly those and nothing else.
 */
const lines = (stdout: string) =>
  stdout
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

export function cleanupOps(exec: Exec) {
  const named = async (list: string[], field: string, prefix: string) => {
    const r = await exec([...list, "--filter", `name=${prefix}`, "--format", `{{.${field}}}`], {
      timeoutMs: 60_000,
    });
    // docker's name filter is a substring match: keep only the real prefix matches.
    return lines(r.stdout).filter((n) => n.startsWith(prefix));
  };
  return {
    /** Containers, volumes and networks whose name starts with `prefix`. */
    async objectsNamed(prefix: string) {
      return {
        containers: await named(["ps", "-a"], "Names", prefix),
        volumes: await named(["volume", "ls"], "Name", prefix),
        networks: await named(["network", "ls"], "Name", prefix),
      };
    },
    /** `docker rm -f -v`; names that are already gone are fine. */
    async containerRemove(names: readonly string[]): Promise<void> {
      if (names.length) await exec(["rm", "-f", "-v", ...names], { check: false, timeoutMs: 120_000 });
    },
    async volumeRemove(names: readonly string[]): Promise<void> {
      if (names.length) await exec(["volume", "rm", "-f", ...names], { check: false, timeoutMs: 120_000 });
    },
    async networksRemove(names: readonly string[]): Promise<void> {
      if (names.length) await exec(["network", "rm", ...names], { check: false, timeoutMs: 60_000 });
    },
  };
}
