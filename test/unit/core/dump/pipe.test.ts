import { expect, test } from "bun:test";
import { pipeChecked } from "../../../../src/core/dump/pipe.ts";
import { createBunRunner } from "../../../../src/core/process/runner.ts";

// The pipe between two children is the runner's: real (tiny) processes, sh and cat.
const runner = createBunRunner();
const produce = (script: string) => (give: (s: ReadableStream<Uint8Array>) => void) =>
  runner.run(["sh", "-c", script], { check: false, stdoutStream: give });
const consume = (stdin: ReadableStream<Uint8Array>, signal: AbortSignal) =>
  runner.run(["sh", "-c", "cat; echo done >&2"], { check: false, stdin, signal, killGraceMs: 500 });

test("a producer's stdout reaches the consumer whole, 8 MiB through a 64 KiB pipe, and the bytes are counted", async () => {
  const r = await pipeChecked(produce("head -c 8388608 /dev/zero"), consume);
  expect(r.producer.exitCode).toBe(0);
  expect(r.consumer.exitCode).toBe(0);
  expect(r.consumer.stdout.length).toBe(8 * 1024 * 1024);
  expect(r.consumer.stderr).toBe("done\n");
  expect(r.bytes).toBe(8 * 1024 * 1024);
  expect(r.producerStopped).toBe(false);
});

test("a producer that fails: the consumer never sees the end of its stdin, it is killed instead", async () => {
  const r = await pipeChecked(produce("echo partial; echo broken >&2; exit 4"), consume);
  expect(r.producer).toMatchObject({ exitCode: 4, stderr: "broken\n" });
  expect(r.consumer.aborted).toBe(true);
  expect(r.consumer.exitCode).not.toBe(0);
  expect(r.consumer.stderr).not.toContain("done"); // cat never reached the end of a clean stream
  expect(r.producerStopped).toBe(false); // its failure is its own
});

test("a consumer that dies early ends the producer too (its stdout closes)", async () => {
  const started = performance.now();
  const r = await pipeChecked(produce("yes"), (stdin, signal) =>
    runner.run(["head", "-c", "10"], { check: false, stdin, signal }),
  );
  expect(r.consumer.stdout).toBe("y\ny\ny\ny\ny\n");
  expect(r.producer.exitCode).not.toBe(0);
  // Its exit is the pipe's doing: the consumer's result says what went wrong.
  expect(r.producerStopped).toBe(true);
  expect(performance.now() - started).toBeLessThan(20_000);
});

test("a consumer that throws (kopia could not start) ends the producer before the error goes up", async () => {
  let producer: Promise<{ aborted: boolean }> | undefined;
  const started = performance.now();
  const error = await pipeChecked(
    (give, signal) => {
      const p = runner.run(["sh", "-c", "echo x; exec sleep 30"], {
        check: false,
        stdoutStream: give,
        signal,
      });
      producer = p;
      return p;
    },
    async () => {
      throw new Error("no kopia");
    },
  ).catch((e) => e);
  expect(error.message).toBe("no kopia");
  // Before: the producer kept running (a pg_dumpall holding its snapshot) after the error.
  expect(await Promise.race([producer, Bun.sleep(100).then(() => "still running")])).toMatchObject({
    aborted: true,
  });
  expect(performance.now() - started).toBeLessThan(20_000);
});
