/** What `within` saw: the promise's value, or that time ran out (or the signal aborted) first. */
export type Within<T> = { done: true; value: T } | { done: false };

/**
 * Waits for `p` at most `ms` (and only until `signal` aborts). A rejection of `p` in that time is
 * thrown. The timer and the listener are dropped either way: a late `p` keeps nothing waiting, not
 * even the process's exit.
 */
export function within<T>(p: Promise<T>, ms: number, signal?: AbortSignal): Promise<Within<T>> {
  return new Promise((resolve, reject) => {
    const late = () => {
      done();
      resolve({ done: false });
    };
    const timer = setTimeout(late, Math.max(0, ms));
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", late);
    };
    if (signal?.aborted) return late();
    signal?.addEventListener("abort", late, { once: true });
    p.then(
      (value) => {
        done();
        resolve({ done: true, value });
      },
      (e) => {
        done();
        reject(e);
      },
    );
  });
}
