import { afterAll, beforeAll, expect, test } from "bun:test";
import { createDocker } from "../../src/core/docker/docker.ts";
import { createBunRunner } from "../../src/core/process/runner.ts";
import { describeReal, run, TEST_IMAGE, uniqueName } from "../helpers/env.ts";

// Ending the `docker exec` CLI does not end the command in the container (moby/moby#9098): a dump cut
// short by a signal, or by kopia failing, would keep reading the database (and holding its locks).
describeReal("docker exec cut short ends the command in the container", ["docker", "image"], () => {
  const name = uniqueName("kdt-exec-abort");
  const docker = createDocker(createBunRunner());
  const top = async () => (await run(["docker", "top", name, "-o", "pid,args"])).stdout;

  beforeAll(async () => {
    await run(["docker", "run", "-d", "--name", name, TEST_IMAGE, "sleep", "600"]);
  });
  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
  });

  test("an aborted exec (a streaming dump) leaves no process behind in the container", async () => {
    const abort = new AbortController();
    let got = "";
    const r = docker.containerExec(name, ["sh", "-c", "while true; do echo row; sleep 0.1; done"], {
      signal: abort.signal,
      killGraceMs: 1000,
      stdoutStream: (s) => {
        void (async () => {
          for await (const c of s) got += new TextDecoder().decode(c);
        })();
      },
    });
    for (let i = 0; i < 100 && !got.includes("row"); i++) await Bun.sleep(100);
    expect(got).toContain("row");
    expect(await top()).toContain("while true");
    abort.abort();
    expect((await r).aborted).toBe(true);
    let left = await top();
    for (let i = 0; i < 50 && left.includes("while true"); i++) {
      await Bun.sleep(100);
      left = await top();
    }
    expect(left).not.toContain("while true");
    expect(left).toContain("sleep 600");
  });
});
