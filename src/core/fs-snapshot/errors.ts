import { AppError } from "../errors.ts";

/** A filesystem snapshot could not be taken or removed (the message names the path and the tool's words). */
export class FsSnapshotError extends AppError {
  constructor(message: string, cause?: unknown) {
    super("backup_failed", message, {
      hint: "see the filesystem tool's message; `kopi-docka recover` removes a snapshot a dead run left",
      ...(cause === undefined ? {} : { cause }),
    });
  }
}
