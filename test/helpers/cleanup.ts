import { run } from "./env.ts";

/** A test's clean-up: removes its containers, then its volumes (ones already gone are fine). */
export async function removeDockerObjects(containers: string[], volumes: string[] = []): Promise<void> {
  if (containers.length > 0) await run(["docker", "rm", "-f", ...containers], { check: false });
  if (volumes.length > 0) await run(["docker", "volume", "rm", "-f", ...volumes], { check: false });
}
