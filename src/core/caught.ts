/**
 * What a caught value says. `catch (e)` gives `unknown`: a thrown string, an `Error`, or a Node error
 * with an errno code. These read it without pretending to know which. Imports nothing (config uses it).
 */

/** The errno code of a failed fs or spawn call (`ENOENT`, `EACCES`, ...); undefined for anything else. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null || !("code" in e)) return undefined;
  return typeof e.code === "string" ? e.code : undefined;
}

/** The message of an `Error`, or the thrown value as text. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Every promise's value once all have ended, or the first rejection, thrown only then. `Promise.all`
 * rejects at the first failure while the others still run: probes whose temp dirs a clean-up would
 * then remove under them.
 */
export async function allEnded<T extends readonly unknown[]>(
  promises: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const ended: PromiseSettledResult<unknown>[] = await Promise.allSettled(promises);
  const failed = ended.find((e): e is PromiseRejectedResult => e.status === "rejected");
  if (failed) throw failed.reason;
  return ended.map((e) => (e as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
