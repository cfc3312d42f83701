import { createTar, parseTar } from "nanotar";
import { AppError } from "../errors.ts";
import { BUNDLE_DIR, type BundleEntry } from "./model.ts";

/** The bundle's tar (ustar via nanotar; GNU and busybox tar read it). Owner root, one mtime for all. */
export function packBundle(entries: readonly BundleEntry[], mtime: Date): Uint8Array {
  return createTar(
    entries.map((e) => ({
      name: e.name,
      data: e.data,
      attrs: {
        mode: e.mode.toString(8),
        uid: 0,
        gid: 0,
        user: "root",
        group: "root",
        mtime: mtime.getTime(),
      },
    })),
  );
}

/**
 * Reads a decrypted bundle back: only regular files directly under BUNDLE_DIR with plain relative
 * names. The content is authenticated by age, but a bundle is still data from elsewhere: a name with
 * `..` or an absolute path is refused rather than trusted.
 */
export function unpackBundle(tar: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let items: ReturnType<typeof parseTar>;
  try {
    items = parseTar(tar);
  } catch (e) {
    throw new AppError("check_failed", `the decrypted bundle is not a tar archive (${(e as Error).message})`);
  }
  for (const item of items) {
    if (item.type !== "file" && item.type !== undefined) continue;
    const rel = item.name.startsWith(`${BUNDLE_DIR}/`) ? item.name.slice(BUNDLE_DIR.length + 1) : "";
    if (!rel || rel.split("/").some((p) => p === "" || p === "." || p === "..")) {
      throw new AppError("check_failed", `the bundle holds an unexpected path: ${JSON.stringify(item.name)}`);
    }
    files.set(rel, "data" in item && item.data ? item.data : new Uint8Array());
  }
  return files;
}
