import { printable } from "../core/log.ts";

/**
 * stdout is data. Everything a script may parse is written here, and nothing else is: commands print
 * their result with `emit`, never with `process.stdout` or `console` directly.
 */

/** What `emit` needs from a command's arguments: every command with output accepts `--json`. */
export interface OutputArgs {
  json?: boolean;
}

/** What a renderer returns: one text block or its lines; an empty array prints nothing. */
export type Rendered = string | readonly string[];

/**
 * The one output path. With `--json`, `value` itself goes to stdout as indented JSON (the renderer is
 * not called); otherwise `render(value)` goes to stdout as text, control characters escaped. A command whose JSON differs from
 * what it renders passes the JSON view as `value` and a renderer that closes over the full object.
 */
export function emit<T>(args: OutputArgs, value: T, render: (value: T) => Rendered): void {
  if (args.json) {
    process.stdout.write(`${jsonText(value)}\n`);
    return;
  }
  const text = render(value);
  const lines = typeof text === "string" ? [text] : text;
  // Text shows names and labels we do not control: a terminal shows their control characters.
  if (lines.length > 0) process.stdout.write(`${printable(lines.join("\n"))}\n`);
}

/**
 * Indented JSON with DEL and the C1 controls escaped too: `JSON.stringify` leaves U+007F–U+009F as
 * they are, and a terminal acts on them (a label's value could move the cursor or set the title).
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Raw bytes as the data itself (`dr export --output -`): nothing else may go to stdout then. */
export function emitBytes(data: Uint8Array): void {
  process.stdout.write(data);
}
