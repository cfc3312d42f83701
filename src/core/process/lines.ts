/**
 * Splits a byte stream into text lines as they arrive. The last line is yielded even without a newline.
 * With `carriageReturn`, a lone `\r` also ends a line: progress bars redraw one line with `\r`, and
 * each redraw is news only if it arrives when it is drawn.
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  o: { carriageReturn?: boolean } = {},
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const breakAt = o.carriageReturn ? /\r\n|\r(?!$)|\n/ : /\r?\n/;
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    // A `\r` at the very end waits for the next chunk: it may be the first half of `\r\n`.
    for (let m = breakAt.exec(buffer); m; m = breakAt.exec(buffer)) {
      yield buffer.slice(0, m.index);
      buffer = buffer.slice(m.index + m[0].length);
    }
  }
  buffer += decoder.decode();
  if (o.carriageReturn) buffer = buffer.replace(/\r$/, "");
  if (buffer) yield buffer;
}

/** The last `maxChars` characters of `text`, cut at a line start where possible. */
export function tail(text: string, maxChars = 2000): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(-maxChars);
  const nl = cut.indexOf("\n");
  return nl >= 0 && nl < cut.length - 1 ? cut.slice(nl + 1) : cut;
}
