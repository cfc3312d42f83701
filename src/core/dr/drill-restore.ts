import { z } from "zod";
import { AppError } from "../errors.ts";
import type { Runner } from "../process/runner.ts";

const RestoreJson = z.object({
  volumes: z.array(z.string()),
  binds: z.array(z.string()),
  started: z.array(z.string()),
});

/**
 * The drill's restore is the real command, run as a child with the drill's config: what a person
 * would type on a new host (`restore --from-host OLD --unit U --latest --as COPY --start --yes`), so a
 * pass proves that path, not a second implementation of it.
 */
export async function runRestoreCopy(
  runner: Runner,
  o: {
    selfArgv: string[];
    configFile: string;
    host: string;
    unit: string;
    copy: string;
    env: Record<string, string>;
    signal?: AbortSignal;
  },
): Promise<z.infer<typeof RestoreJson>> {
  const argv = [
    ...o.selfArgv,
    ...["restore", "--config", o.configFile, "--from-host", o.host, "--unit", o.unit],
    ...["--latest", "--as", o.copy, "--start", "--yes", "--json"],
  ];
  const r = await runner.run(argv, {
    check: false,
    env: { ...o.env, KOPI_DOCKA_CONFIG: undefined, NO_COLOR: "1", CI: "true" },
    signal: o.signal,
    timeoutMs: 3_600_000,
  });
  if (r.exitCode !== 0) {
    const why = r.stderr.trim().split("\n").slice(-3).join(" | ");
    throw new AppError("check_failed", `restore exited ${r.exitCode}: ${why}`);
  }
  const parsed = RestoreJson.safeParse(JSON.parse(r.stdout || "{}"));
  if (!parsed.success) throw new AppError("check_failed", "restore printed no result");
  return parsed.data;
}
