import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readMarker, writeMarker } from "../../../../src/core/repository/saved.ts";
import { tempDir } from "../../../helpers/env.ts";

// "Connected before" is what stops a backup from creating a repository where a disk is not mounted:
// only no marker at all means a first use.
test("the connection marker: none is a first use; a damaged or unreadable one still means connected before", () => {
  const dir = tempDir("kd-marker-");
  expect(readMarker(dir.path)).toBeUndefined();
  writeMarker(dir.path, { backend: "filesystem", location: "/mnt/backup", connectedAt: "t" });
  expect(readMarker(dir.path)).toEqual({ backend: "filesystem", location: "/mnt/backup", connectedAt: "t" });
  writeFileSync(join(dir.path, "repository.json"), '{"backend": "filesyst'); // cut short by a full disk
  expect(readMarker(dir.path)).toEqual({ backend: "?", location: "?", connectedAt: "?" });
  const dirMarker = tempDir("kd-marker-dir-");
  mkdirSync(join(dirMarker.path, "repository.json")); // EISDIR: not readable, not absent
  expect(readMarker(dirMarker.path)).toBeDefined();
  dir.remove();
  dirMarker.remove();
});
