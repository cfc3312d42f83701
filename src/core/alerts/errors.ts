import { AppError } from "../errors.ts";

/**
 * A notification target that cannot be used as configured (bad URL, unreadable secret file, unset
 * variable). The message names the target by its masked label only, never the URL or a secret.
 */
export class TargetConfigError extends AppError {
  readonly target: string;
  constructor(target: string, problem: string, hint?: string) {
    super("config", `notification target ${target}: ${problem}`, { hint });
    this.target = target;
  }
}

/** One send that failed or timed out. Reported and counted; never turns into an exit code. */
export class SendError extends Error {
  readonly target: string;
  readonly timedOut: boolean;
  constructor(target: string, message: string, timedOut = false) {
    super(message);
    this.name = "SendError";
    this.target = target;
    this.timedOut = timedOut;
  }
}
