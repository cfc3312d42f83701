import { run } from "./env.ts";

export interface DockerEvent {
  t: bigint;
  name: string | undefined;
  action: string;
}

/**
 * Docker's events for `containers`, streamed from now on (dockerd keeps only its last 256 events for a
 * later `--since` query). Resolves once the stream is live: it has reported an exec of `probe`, a
 * running one of them. `stop` ends it after one more probe exec has come through, and parses.
 */
export async function watchEvents(containers: readonly string[], probe: string) {
  const watch = Bun.spawn(
    [
      "docker",
      "events",
      ...containers.flatMap((c) => ["--filter", `container=${c}`]),
      ...["--format", "{{.TimeNano}} {{.Actor.Attributes.name}} {{.Action}}"],
    ],
    { stdout: "pipe", stderr: "ignore" },
  );
  let seen = "";
  const reading = (async () => {
    for await (const chunk of watch.stdout) seen += new TextDecoder().decode(chunk);
  })();
  for (let i = 0; i < 100 && !seen.includes("exec_die"); i++) {
    await run(["docker", "exec", probe, "true"]);
    await Bun.sleep(100);
  }
  if (!seen.includes("exec_die")) throw new Error("docker events reported nothing");
  return {
    /** Ends the stream once everything before this call has come through; the events, in order. */
    async stop(): Promise<DockerEvent[]> {
      const before = seen.length;
      await run(["docker", "exec", probe, "true"]);
      for (let i = 0; i < 100 && !seen.slice(before).includes("exec_die"); i++) await Bun.sleep(100);
      watch.kill();
      await reading;
      return seen
        .split("\n")
        .filter(Boolean)
        .map((l) => {
          const [t, name, ...action] = l.split(" ");
          return { t: BigInt(t ?? "0"), name, action: action.join(" ") };
        });
    },
  };
}

/** The dump's feed into `db`: the restore command's exec (its event matching `feedMark`) and its exec_die. */
export function feedOf(events: readonly DockerEvent[], db: string, feedMark: RegExp) {
  const start = events.findIndex((e) => e.name === db && feedMark.test(e.action));
  const end = events.slice(Math.max(start, 0)).find((e) => e.name === db && e.action.startsWith("exec_die"));
  return { started: events[start]?.t, ended: end?.t };
}
