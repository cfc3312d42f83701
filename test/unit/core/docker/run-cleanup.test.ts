import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { createDocker } from "../../../../src/core/docker/docker.ts";
import { ProcessError } from "../../../../src/core/errors.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";

// `docker run -d` creates the container, then starts it: when the start fails (a network to join
// that is gone, a port in use) the CLI exits 125 and leaves it "created", which the next
// `restore --start` takes for the unit's own, stopped. The run removes it, and only it: the one
// whose id docker wrote to this run's --cidfile, of that name, still created.
const ID = "99bac1b0".padEnd(64, "d");
const cidFiles: string[] = [];
/** `docker run … --cidfile=F …`; `write`: docker created the container and wrote its id to F. */
const run = (write?: string) => (a: readonly string[]) => {
  const flag = a.find((x) => x.startsWith("--cidfile="));
  if (a[1] !== "run" || !flag) return false;
  cidFiles.push(flag.slice("--cidfile=".length));
  if (write !== undefined) writeFileSync(flag.slice("--cidfile=".length), write);
  return true;
};
const failed = { exitCode: 125, stderr: "docker: Error response from daemon: No such container: bd09" };
const inspect = ["docker", "inspect", "--type", "container", "--format", "{{.Name}}\t{{.State.Status}}", ID];
const spec = { args: ["--name", "web", "--network", "container:app", "busybox"] };

describe("a docker run that fails", () => {
  test("removes the container it created, still created, of that name; the run's error stands", async () => {
    const runner = new FakeRunner([
      { argv: run(ID), ...failed },
      { argv: inspect, stdout: "/web\tcreated\n" },
      { argv: ["docker", "rm", "-v", ID] },
    ]);
    const e = await createDocker(runner)
      .run(spec)
      .catch((x) => x);
    expect(e).toBeInstanceOf(ProcessError);
    expect(String(e.message)).toContain("No such container");
    expect(runner.remaining).toBe(0);
    // The cidfile's private directory is gone too.
    expect(existsSync(dirname(cidFiles.at(-1) ?? "/"))).toBe(false);
  });

  test("leaves alone what it did not create, what runs, what has another name", async () => {
    for (const [cid, answer] of [
      [undefined, ""], // name in use: docker created nothing, wrote no id
      [ID, "/web\trunning\n"], // started after all (the CLI was cut short)
      [ID, "/other\tcreated\n"],
      ["../../etc", ""], // no id
    ] as const) {
      const runner = new FakeRunner([
        { argv: run(cid), ...failed },
        ...(answer ? [{ argv: inspect, stdout: answer }] : []),
      ]);
      await expect(createDocker(runner).run(spec)).rejects.toBeInstanceOf(ProcessError);
      expect(runner.calls.map((c) => c.argv[1])).not.toContain("rm");
      expect(runner.remaining).toBe(0);
    }
  });

  test("a run that succeeds removes nothing and leaves no cidfile behind", async () => {
    const runner = new FakeRunner([{ argv: run(ID), stdout: `${ID}\n` }]);
    await createDocker(runner).run(spec);
    expect(runner.calls).toHaveLength(1);
    expect(existsSync(dirname(cidFiles.at(-1) ?? "/"))).toBe(false);
  });
});
