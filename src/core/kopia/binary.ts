import type { Config } from "../../config/schema.ts";
import { AppError } from "../errors.ts";
import type { Runner } from "../process/runner.ts";
import { atLeast } from "../semver.ts";
import { type EmbeddedKopia, embeddedKopia, extractEmbeddedKopia, extractedKopiaPath } from "./embedded.ts";
import { kopiaVersionOf } from "./version.ts";

/** The oldest kopia kopi-docka drives (`restore --delete-extra` and the JSON it parses). */
export const MIN_KOPIA = "0.21.0";

export type KopiaSource = "path" | "embedded" | "configured" | "missing";

/** Which kopia runs and why; what `version` and `doctor` report. */
export interface KopiaChoice {
  /** argv[0] for every kopia call: "kopia" (looked up on PATH) or an absolute path. */
  command: string;
  /** The file it is: PATH's hit, the extracted file, or the configured path; null when none. */
  path: string | null;
  version: string | null;
  source: KopiaSource;
  /** The kopia inside this binary, when it is a full build. */
  embedded: EmbeddedKopia | null;
}

export interface KopiaChoiceDeps {
  runner: Runner;
  stateDir: string;
  /** Injected for tests; the real ones read this binary and PATH. */
  embedded?: EmbeddedKopia;
  which?: (cmd: string) => string | null;
  extract?: (stateDir: string, info: EmbeddedKopia) => Promise<string>;
}

/**
 * Picks kopia per `kopia.binary`. "auto" prefers a kopia on PATH that is new enough (the admin's own,
 * upgraded with the system), else the embedded one, else reports "missing" and leaves "kopia" for the
 * first call to fail with the usual not-found error. "embedded" extracts on first use.
 */
export async function chooseKopia(
  setting: Config["kopia"]["binary"],
  deps: KopiaChoiceDeps,
): Promise<KopiaChoice> {
  const embedded = deps.embedded ?? embeddedKopia() ?? null;
  const which = deps.which ?? ((c: string) => Bun.which(c));
  const extract = deps.extract ?? extractEmbeddedKopia;
  const fromEmbedded = async (): Promise<KopiaChoice> => {
    if (!embedded) {
      throw new AppError(
        "dependency_missing",
        'kopia.binary is "embedded", but this kopi-docka has no kopia inside',
        {
          hint: 'install the full build (kopi-docka-linux-*-full), or set kopia.binary = "auto"',
        },
      );
    }
    const path = await extract(deps.stateDir, embedded);
    return { command: path, path, version: embedded.version, source: "embedded", embedded };
  };
  if (setting === "embedded") return fromEmbedded();
  if (setting !== "auto" && setting !== "path") {
    const version = (await kopiaVersionOf(deps.runner, setting)) ?? null;
    return { command: setting, path: setting, version, source: "configured", embedded };
  }
  const onPath = which("kopia");
  const pathVersion = onPath ? ((await kopiaVersionOf(deps.runner, "kopia")) ?? null) : null;
  const usable = pathVersion !== null && atLeast(pathVersion, MIN_KOPIA);
  if (setting === "auto" && !usable && embedded) return fromEmbedded();
  if (!onPath) return { command: "kopia", path: null, version: null, source: "missing", embedded };
  return { command: "kopia", path: onPath, version: pathVersion, source: "path", embedded };
}

/** Where a full binary's kopia is (or would be) extracted; for messages. */
export function embeddedKopiaPath(stateDir: string): string | null {
  const e = embeddedKopia();
  return e ? extractedKopiaPath(stateDir, e.version) : null;
}
