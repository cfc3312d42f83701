import * as p from "@clack/prompts";
import { InterruptedError } from "../core/errors.ts";

/** Ctrl+C or Esc at any question: nothing was written; the caller exits 130. */
export function cancelled(): never {
  p.cancel("setup cancelled; nothing was written");
  throw new InterruptedError("SIGINT", "setup cancelled at the prompt");
}

/** A prompt's answer, or the cancellation it stands for. */
export function answer<T>(v: T): Exclude<T, symbol> {
  if (p.isCancel(v)) cancelled();
  return v as Exclude<T, symbol>;
}
