import { maskUrl } from "../core/alerts/mask.ts";

/** Keys whose values are secrets wherever they appear in config output. */
const SECRET_KEY = /pass(word)?|secret|token|key$|credential|auth|webhook|url$/i;
/** Keys that name files (or environment variables) holding secrets: the name is shown, the secret never is. */
const PATH_KEY = /_file$|_path$|_dir$|_env$/i;

/** A deep copy with secret values replaced by "***". Paths to secret files stay visible. */
export function maskSecrets<T>(value: T, key = ""): T {
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, key)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v, k)])) as T;
  }
  if (typeof value === "string" && value !== "" && SECRET_KEY.test(key) && !PATH_KEY.test(key)) {
    // A notification URL keeps its scheme and host, so a reader can tell the targets apart.
    return (/url$/i.test(key) ? maskUrl(value) : "***") as T;
  }
  return value;
}
