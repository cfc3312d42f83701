import { AbortGrace, type RunResult } from "../process/runner.ts";

/** How long the consumer of a torn stream gets between SIGTERM and SIGKILL. */
const TORN_KILL_GRACE_MS = 5_000;

export interface Piped<C> {
  producer: RunResult;
  consumer: C;
  /** Bytes that passed from the producer to the consumer. */
  bytes: number;
  /**
   * The consumer finished while the producer still ran, and the producer was ended for it: its exit
   * status is this pipe's doing, not a failure of its own. The consumer's result says what happened.
   */
  producerStopped: boolean;
}

/**
 * A producer's stdout fed to a consumer's stdin, no shell between them. The consumer sees the end
 * of the stream only once the producer has exited 0: a producer that fails (a dump that broke off)
 * has the consumer aborted instead, so a torn stream never ends cleanly and is never saved as whole.
 * A consumer that ends first, or throws, has the producer ended too.
 */
export async function pipeChecked<C>(
  produce: (stdoutStream: (s: ReadableStream<Uint8Array>) => void, signal: AbortSignal) => Promise<RunResult>,
  consume: (stdin: ReadableStream<Uint8Array>, signal: AbortSignal) => Promise<C>,
  signal?: AbortSignal,
): Promise<Piped<C>> {
  const abort = new AbortController();
  const stopProducer = new AbortController();
  const onOuter = () => {
    abort.abort(signal?.reason);
    stopProducer.abort(signal?.reason);
  };
  if (signal?.aborted) onOuter();
  else signal?.addEventListener("abort", onOuter, { once: true });
  try {
    let give: (s: ReadableStream<Uint8Array> | undefined) => void = () => {};
    const got = new Promise<ReadableStream<Uint8Array> | undefined>((r) => {
      give = r;
    });
    const producer = produce((s) => give(s), stopProducer.signal);
    let producerDone = false;
    const settle = () => {
      producerDone = true;
      give(undefined);
    };
    producer.then(settle, settle);
    const source = await got;
    // No stream: the producer could not start; its error (or result) says why.
    if (!source) {
      await producer;
      throw new Error("the producer gave no output stream");
    }
    const reader = source.getReader();
    let bytes = 0;
    const gated = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        const { done, value } = await reader.read();
        if (!done) {
          bytes += value.byteLength;
          ctrl.enqueue(value);
          return;
        }
        const r = await producer.catch(() => undefined);
        if (r?.exitCode === 0) return ctrl.close();
        abort.abort(new AbortGrace("the producer failed", TORN_KILL_GRACE_MS));
        ctrl.error(new Error("the producer failed"));
      },
      cancel: (reason) => reader.cancel(reason),
    });
    let producerStopped = false;
    const ended = async () => {
      // The producer is not read any more: it is ended (a dump left blocked on a full pipe would hold
      // its database snapshot and locks until it died).
      producerStopped = !producerDone;
      await reader.cancel().catch(() => {});
      stopProducer.abort(new AbortGrace("the consumer ended", TORN_KILL_GRACE_MS));
    };
    let consumer: C;
    try {
      consumer = await consume(gated, abort.signal);
    } catch (e) {
      await ended();
      await producer.catch(() => undefined);
      throw e;
    }
    // A consumer that ended before the stream did.
    await ended();
    return { producer: await producer, consumer, bytes, producerStopped };
  } finally {
    signal?.removeEventListener("abort", onOuter);
  }
}
