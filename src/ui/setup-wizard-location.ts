import * as p from "@clack/prompts";
import { errorMessage } from "../core/caught.ts";
import { AppError } from "../core/errors.ts";
import {
  backendFields,
  backendOptions,
  isRemote,
  REMOTE_BACKENDS,
  type RemoteBackend,
} from "../core/setup/backends.ts";
import type { SetupFlags } from "../core/setup/flags.ts";
import type { LocationState, SetupAnswers } from "../core/setup/model.ts";
import { answer } from "./setup-wizard-prompt.ts";

export interface LocationDeps {
  probe: (path: string) => LocationState;
  /** The read-only connection test of a remote location: throws the reason it failed. */
  probeRemote: (a: SetupAnswers) => Promise<LocationState>;
}

const TRIES = 3;
const why = (e: unknown) => (e instanceof AppError && e.hint ? `${e.message} (${e.hint})` : errorMessage(e));

async function filesystemPath(a: SetupAnswers, start: SetupAnswers, f: SetupFlags): Promise<string> {
  return (
    f.repositoryPath ??
    answer(
      await p.text({
        message: "Repository directory (a local disk or a mounted share)",
        initialValue: start.repositoryPath || a.repositoryPath || "/var/lib/kopi-docka/repository",
        validate: (v) => (v?.startsWith("/") ? undefined : "an absolute path"),
      }),
    )
  );
}

const label = (k: string, secret?: "file" | "env") =>
  secret === "file" && /password|secret|key|token|credentials/.test(k)
    ? `${k}: the path of a 0600 file holding it (never the secret itself)`
    : secret === "env"
      ? `${k}: the name of an environment variable holding it (never the secret itself)`
      : k;

/** One question per key of the backend's schema that no flag answered; the last answers as defaults. */
async function askFields(b: RemoteBackend, options: Record<string, unknown>, fromFlags: Set<string>) {
  for (const field of backendFields(b)) {
    if (fromFlags.has(field.key)) continue;
    const known = options[field.key];
    const text = answer(
      await p.text({
        message: `${b} ${label(field.key, field.secret)}${field.optional ? " (empty: none)" : ""}`,
        initialValue: known === undefined ? field.initial : String(known),
        defaultValue: "",
        validate: (v) => field.check((v ?? "").trim()),
      }),
    ).trim();
    const value = field.value(text);
    if (value === undefined) delete options[field.key];
    else options[field.key] = value;
  }
}

/**
 * Step 2, where backups go: the backend (unless --backend named it), its questions, then the live
 * connection test. A failed test says why and asks again, three tries; then setup stops, nothing written.
 */
export async function whereBackupsGo(
  a: SetupAnswers,
  start: SetupAnswers,
  f: SetupFlags,
  d: LocationDeps,
): Promise<LocationState> {
  // --repository-path alone names the filesystem backend; --backend names any.
  a.backend =
    (f.backend as SetupAnswers["backend"] | undefined) ??
    (f.repositoryPath ? "filesystem" : undefined) ??
    answer(
      await p.select({
        message: "Where backups go",
        initialValue: start.backend,
        options: [
          { value: "filesystem" as const, label: "filesystem", hint: "a local disk or a mounted share" },
          ...REMOTE_BACKENDS.map((b) => ({ value: b, label: b })),
        ],
      }),
    );
  const b = a.backend;
  if (!isRemote(b)) {
    a.backendOptions = {};
    a.repositoryPath = await filesystemPath(a, start, f);
    return d.probe(a.repositoryPath);
  }
  a.repositoryPath = "";
  const flagged = backendOptions(b, f.backendFlags ?? (() => undefined));
  a.backendOptions = { ...(start.backend === b ? start.backendOptions : {}), ...flagged };
  const fromFlags = new Set(Object.keys(flagged));
  for (let attempt = 1; ; attempt++) {
    await askFields(b, a.backendOptions, fromFlags);
    const s = p.spinner();
    s.start(`connection test (try ${attempt} of ${TRIES})`);
    try {
      const state = await d.probeRemote(a);
      s.stop("connection test passed");
      return state;
    } catch (e) {
      s.stop("connection test failed");
      p.log.error(why(e));
      if (attempt >= TRIES)
        throw new AppError("repository", `the connection test failed ${TRIES} times; nothing was written`, {
          hint: "fix the server or the answers, then run setup again",
        });
      // A flag can be what is wrong: the next try asks every key, the last answers as defaults.
      fromFlags.clear();
    }
  }
}
