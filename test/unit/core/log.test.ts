import { afterEach, describe, expect, test } from "bun:test";
import { createLogger, printable } from "../../../src/core/log.ts";

// Text we do not control reaches the log (file names in kopia's stderr, a daemon's error message): a
// terminal must show its control characters, never act on them.
const ESC = "\u001b";
const written: string[] = [];
const realWrite = process.stderr.write.bind(process.stderr);
afterEach(() => {
  process.stderr.write = realWrite;
  written.length = 0;
});

describe("printable", () => {
  test("escape sequences, carriage returns, BEL, DEL and C1 controls are written out as \\xNN", () => {
    expect(printable(`a${ESC}]0;owned\u0007b`)).toBe("a\\x1b]0;owned\\x07b");
    expect(printable("fake\rline")).toBe("fake\\x0dline");
    expect(printable("\u007f\u009b2J")).toBe("\\x7f\\x9b2J");
  });

  test("newlines, tabs and any printable text (also non-ASCII) pass unchanged", () => {
    const text = "unit äöü 📦\n\tdata: /var/lib/docker/volumes/x/_data";
    expect(printable(text)).toBe(text);
  });
});

describe("the logger", () => {
  test("escapes every line it writes, whatever the level", () => {
    process.stderr.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    const log = createLogger("verbose");
    log.debug(`kopia: error reading file d/${ESC}[2J${ESC}]0;x\u0007`);
    log.info("compose:", `up ${ESC}[31mred`);
    const out = written.join("");
    expect(out).toContain("kopia: error reading file d/\\x1b[2J\\x1b]0;x\\x07");
    expect(out).toContain("compose: up \\x1b[31mred");
    expect(out).not.toContain(`${ESC}]0;`);
    expect(out).not.toContain(`${ESC}[2J`);
  });
});
