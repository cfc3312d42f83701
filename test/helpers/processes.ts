import { readdirSync, readFileSync } from "node:fs";

/** Live processes started by kopi-docka run `pid` (its KOPI_DOCKA_RUN env marker) or naming `dir`. */
function liveProcessesOf(pid: number, dir: string): string[] {
  const out: string[] = [];
  for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    if (Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]?.startsWith("Z")) continue;
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8").replaceAll("\0", " ");
      const env = `\0${readFileSync(`/proc/${p}/environ`, "utf8")}`;
      if (env.includes(`\0KOPI_DOCKA_RUN=${pid}:`) || cmd.includes(dir)) out.push(`${p}: ${cmd}`);
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * What run `pid` left behind after it exited: its children (marked by env) or anything naming `dir`
 * (kopia's --config-file). Children may take a moment to be reaped after the parent's exit, so this
 * asks again for up to two seconds before it answers.
 */
export async function processesLeftBy(pid: number, dir: string): Promise<string[]> {
  let left = liveProcessesOf(pid, dir);
  for (let i = 0; i < 20 && left.length > 0; i++) {
    await Bun.sleep(100);
    left = liveProcessesOf(pid, dir);
  }
  return left;
}

/** Every process command line on the host, as `ps` shows it, sampled until `done` settles. */
export async function sampleCommandLines(done: Promise<unknown>): Promise<string[]> {
  const seen = new Set<string>();
  let finished = false;
  done.finally(() => {
    finished = true;
  });
  while (!finished) {
    for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
      try {
        const line = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
        if (line) seen.add(line);
      } catch {
        // the process ended between the listing and the read
      }
    }
    await Bun.sleep(10);
  }
  return [...seen];
}
