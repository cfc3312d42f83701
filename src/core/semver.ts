/** Compares dotted numeric versions ("20.10.24+dfsg1" reads as 20.10.24). Negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => (/^\D*(\d+(?:\.\d+)*)/.exec(v)?.[1] ?? "0").split(".").map(Number);
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export const atLeast = (version: string, minimum: string) => compareVersions(version, minimum) >= 0;
