import { maskUrl } from "../core/alerts/mask.ts";

/** Keys whose values are secrets wherever they appear in config output. */
const SECRET_KEY = /pass(word)?|secret|token|key$|credential|auth|webhook|url$/i;
/** Keys that name files (or environment variables) holding secrets: the name is shown, the secret never is. */
const PATH_KEY = /_file$|_path$|_dir$|_env$/i;

/** A deep copy with secret values replaced by "***". Paths to secret files stay visible. */
export function maskSecrets<T>(value: T): T {
  // The copy has the input's shape: only string values change, to other strings.
  return maskValue(value, "") as T;
}

function maskValue(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return value.map((v) => maskValue(v, key));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v, k)]));
  }
  if (typeof value === "string" && value !== "" && SECRET_KEY.test(key) && !PATH_KEY.test(key)) {
    // A notification URL keeps its scheme and host, so a reader can tell the targets apart.
    return /url$/i.test(key) ? maskUrl(value) : "***";
  }
  return value;
}
