/**
 * Finds the line of a dotted key in TOML source text, so a validation error can say
 * `config.toml:12: retention.daily: ...`. smol-toml gives positions only for syntax errors.
 * Covers tables, array tables, dotted and quoted keys; for anything subtler (inline tables) it falls
 * back to the line of the nearest enclosing key it can find.
 */
export function findKeyLine(source: string, path: readonly PropertyKey[]): number | undefined {
  const target = path.filter((p): p is string => typeof p === "string");
  if (target.length === 0) return undefined;
  let table: string[] = [];
  let best: { line: number; depth: number } | undefined;
  const consider = (keyPath: string[], line: number) => {
    const depth = commonPrefix(keyPath, target);
    if (depth === target.length && keyPath.length === target.length) best = { line, depth: Infinity };
    else if (depth === keyPath.length && depth > (best?.depth ?? 0)) best = { line, depth };
  };
  const lines = source.split("\n");
  for (let i = 0; i < lines.length && best?.depth !== Infinity; i++) {
    const text = stripComment(lines[i] ?? "").trim();
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?$/.exec(text);
    if (header?.[1]) {
      table = splitKey(header[1]);
      consider(table, i + 1);
      continue;
    }
    const assign = /^((?:"[^"]*"|'[^']*'|[A-Za-z0-9_.\- ])+?)\s*=/.exec(text);
    if (assign?.[1]) consider([...table, ...splitKey(assign[1])], i + 1);
  }
  return best?.line;
}

function commonPrefix(a: readonly string[], b: readonly string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** Splits `a."b.c".d` into ["a", "b.c", "d"]. */
function splitKey(key: string): string[] {
  const parts: string[] = [];
  const re = /\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:\.|$)/gy;
  for (let m = re.exec(key); m && m[0] !== ""; m = re.exec(key)) parts.push(m[1] ?? m[2] ?? m[3] ?? "");
  return parts;
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#") return line.slice(0, i);
  }
  return line;
}
