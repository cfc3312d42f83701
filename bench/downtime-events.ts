/** A container's cold window read from `docker events`: first kill/stop → last start, since `since`. */
import { run } from "../test/helpers/env.ts";

export async function coldFromEvents(container: string, since: number): Promise<number | undefined> {
  const r = await run([
    "docker",
    "events",
    "--since",
    since.toFixed(3),
    "--until",
    (Date.now() / 1000).toFixed(3),
    "--filter",
    `container=${container}`,
    "--format",
    "{{.Action}} {{.TimeNano}}",
  ]);
  const events = r.stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [action, nano] = l.split(" ");
      return { action: action ?? "", ms: Number(BigInt(nano ?? "0") / 1_000_000n) };
    });
  // docker stop emits "kill" (SIGTERM) first: that is when the service begins to go down.
  const down = events.find((e) => e.action === "kill" || e.action === "stop" || e.action === "die");
  const up = events.filter((e) => e.action === "start").at(-1);
  return down && up && up.ms > down.ms ? up.ms - down.ms : undefined;
}
