import { afterEach, expect, test } from "bun:test";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emptyAndPrivate, swapIn } from "../../../../src/core/restore/swap-in.ts";

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "kd-swap-in-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// kopia writes without temp names only where nothing can have been planted: empty, ours, no one else's.
test("written directly only into an empty directory of ours that no one else can write", () => {
  const d = temp();
  const empty = join(d, "empty");
  mkdirSync(empty, { mode: 0o755 });
  expect(emptyAndPrivate(empty)).toBe(true);
  writeFileSync(join(empty, "x"), "");
  expect(emptyAndPrivate(empty)).toBe(false);
  const open = join(d, "open");
  mkdirSync(open);
  chmodSync(open, 0o777);
  expect(emptyAndPrivate(open)).toBe(false);
  symlinkSync(join(d, "empty2"), join(d, "link"));
  mkdirSync(join(d, "empty2"));
  expect(emptyAndPrivate(join(d, "link"))).toBe(false);
  expect(emptyAndPrivate(join(d, "absent"))).toBe(false);
});

test("a symlink at the target is replaced, never written through; the stage is gone after", async () => {
  const d = temp();
  writeFileSync(join(d, "host"), "host file\n");
  symlinkSync(join(d, "host"), join(d, "target"));
  await swapIn("bind /x", join(d, "target"), async (fresh) => {
    mkdirSync(fresh);
    writeFileSync(join(fresh, "a"), "restored\n");
  });
  expect(lstatSync(join(d, "target")).isDirectory()).toBe(true);
  expect(readFileSync(join(d, "target", "a"), "utf8")).toBe("restored\n");
  expect(readFileSync(join(d, "host"), "utf8")).toBe("host file\n");
  expect(readdirSync(d).sort()).toEqual(["host", "target"]);
});

test("a failed write leaves the target as it was and no stage behind", async () => {
  const d = temp();
  mkdirSync(join(d, "target"));
  writeFileSync(join(d, "target", "old"), "old\n");
  const failed = await swapIn("volume v", join(d, "target"), async () => {
    throw new Error("kopia failed");
  }).catch((e) => e);
  expect(String(failed)).toContain("kopia failed");
  expect(readdirSync(join(d, "target"))).toEqual(["old"]);
  expect(readdirSync(d)).toEqual(["target"]);
});
