import { type Logger, printable } from "../core/log.ts";

/** Where a live line goes: stderr, or a test double. */
export interface ProgressOutput {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  log: Logger;
  out?: ProgressOutput;
  /** Without a terminal: at most one plain log line per item this often. */
  plainEveryMs?: number;
  now?: () => number;
}

export type Outcome = "ok" | "failed";

/** The display of one item (a source snapshotted, a volume restored), fed kopia's numbers `P`. */
export interface ProgressLine<P> {
  /** True on a terminal: the line drawn stays when done, so the caller's own log lines are redundant. */
  readonly standing: boolean;
  /** New numbers: redraw, or log a plain line if the last one is old enough. */
  update(p: P): void;
  finish(outcome: Outcome): void;
}

/**
 * Progress lines for backup and restore alike, and the one place that decides how they show: on a
 * terminal one line per item, redrawn in place and left standing when done (items side by side: one
 * after the other, a later one drawn once the earlier ones are done); otherwise (journald,
 * pipes, CI) a plain log line at most every `plainEveryMs`; nothing under `--quiet`. Under
 * `--verbose`, debug lines (every command run, kopia's stderr) would land in the middle of a redrawn
 * line, so plain lines then. Never asks anything.
 */
export function progressLines(o: ProgressOptions) {
  const out = o.out ?? process.stderr;
  const mode = o.log.level < 3 ? "silent" : out.isTTY === true && o.log.level < 4 ? "live" : "plain";
  const now = o.now ?? (() => performance.now());
  const every = o.plainEveryMs ?? 10_000;
  // Clear and redraw; cut to the terminal width, as a wrapped line could not be redrawn.
  const draw = (text: string, end = "") => {
    const width = out.columns && out.columns > 10 ? out.columns - 1 : undefined;
    const safe = printable(text);
    out.write(`\r\x1b[2K${width ? safe.slice(0, width) : safe}${end}`);
  };
  // Live items not yet shown done, oldest first: only the first is drawn (one line redrawn in place),
  // so items running side by side show one after the other, each with its own numbers.
  const shown: { text: () => string; final?: string }[] = [];
  const advance = () => {
    for (let head = shown[0]; head?.final !== undefined; head = shown[0]) {
      draw(head.final, "\n");
      shown.shift();
    }
    if (shown[0]) draw(shown[0].text());
  };
  return {
    now,
    /**
     * One item. `render(last, elapsedMs, outcome)` is its line now: `last` the latest numbers (none
     * yet: undefined), `outcome` once finished. With `closingLog`, an item that logged plain lines logs
     * a last one when it finishes.
     */
    item<P>(
      render: (last: P | undefined, elapsedMs: number, outcome?: Outcome) => string,
      closingLog = false,
    ): ProgressLine<P> {
      const start = now();
      let last: P | undefined;
      let lastLogged = start;
      let logged = false;
      let done = false;
      const text = (outcome?: Outcome) =>
        `${render(last, now() - start, outcome)}${outcome === "failed" ? " — failed" : ""}`;
      const me: (typeof shown)[number] = { text: () => text() };
      if (mode === "live") {
        shown.push(me);
        if (shown[0] === me) draw(text());
      }
      return {
        standing: mode === "live",
        update(p) {
          if (done || mode === "silent") return;
          last = p;
          if (mode === "live") return shown[0] === me ? draw(text()) : undefined;
          if (now() - lastLogged < every) return;
          lastLogged = now();
          logged = true;
          o.log.info(text());
        },
        finish(outcome) {
          if (done || mode === "silent") return;
          done = true;
          if (mode === "live") {
            me.final = text(outcome);
            advance();
          } else if (closingLog && logged) o.log.info(text(outcome));
        },
      };
    },
  };
}
