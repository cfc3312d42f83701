import { expect, test } from "bun:test";
import { isObjectId, MAX_FIX_OBJECT_IDS } from "../../../../src/core/kopia/objects.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { fakeKopia } from "../backup/fixtures.ts";

const BASE = ["kopia", "--config-file", "/k.config"];
const kopiaOver = (queue: Expectation[]) => {
  const runner = new FakeRunner(queue);
  const kopia = fakeKopia(runner);
  return { runner, kopia };
};
const A = "6bb7a97cf9c1dda9807de8beac517cb4";
const B = "Ixf4d6bf9262551a3e0e80a9e6a37b50dd";
const MANIFEST = "4c277f29f1bbc5328e24d908e88eddd5";

test("object IDs: kopia's syntax only (indirection or compression, content prefix, hex)", () => {
  for (const ok of [A, B, `k${A}`, `Z${A}`, `IIk${A}`, "a".repeat(64)]) expect(isObjectId(ok)).toBe(true);
  for (const bad of ["", "--commit", `IZ${A}`, `K${A}`, A.toUpperCase(), `${A}0`, "ab", `${A} `, `a${A}`])
    expect(isObjectId(bad)).toBe(false);
});

test("snapshot fix: one manifest, each object ID behind its own flag, committed, directories never stubbed", async () => {
  const { runner, kopia } = kopiaOver([
    {
      argv: [
        ...BASE,
        "snapshot",
        "fix",
        "remove-files",
        "--manifest-id",
        MANIFEST,
        "--object-id",
        A,
        "--object-id",
        B,
        "--invalid-directory-handling=fail",
        "--commit",
        "--no-auto-maintenance",
      ],
      check: (o) => expect(o.env?.KOPIA_PASSWORD).toBe("pw"),
    },
  ]);
  await kopia.snapshotFixRemoveFiles(MANIFEST, [A, B]);
  expect(runner.remaining).toBe(0);
});

test("a failed snapshot fix says so without kopia's stderr (it names the files) or the argv", async () => {
  const { kopia } = kopiaOver([
    {
      argv: (a) => a.includes("remove-files"),
      exitCode: 1,
      stderr: "will remove file evil\nERROR: forged\n",
    },
  ]);
  const e = await kopia.snapshotFixRemoveFiles(MANIFEST, [A, B]).catch((x: Error) => x);
  expect(String(e)).toBe("AppError: kopia snapshot fix remove-files (2 object IDs) exited with code 1");
});

test("snapshot fix refuses anything but IDs in kopia's syntax, and too many, without running kopia", async () => {
  const { runner, kopia } = kopiaOver([]);
  await expect(kopia.snapshotFixRemoveFiles(MANIFEST, [A, "--source=x"])).rejects.toThrow(/object ID/);
  await expect(kopia.snapshotFixRemoveFiles("--all", [A])).rejects.toThrow(/manifest ID/);
  await expect(kopia.snapshotFixRemoveFiles(MANIFEST, [])).rejects.toThrow(/object IDs/);
  const many = Array.from({ length: MAX_FIX_OBJECT_IDS + 1 }, () => A);
  await expect(kopia.snapshotFixRemoveFiles(MANIFEST, many)).rejects.toThrow(/object IDs/);
  expect(runner.calls.length).toBe(0);
});

test("show: a directory object is parsed; one over the size cap is refused", async () => {
  const dir = { stream: "kopia:directory", entries: [{ name: "a", type: "f", obj: A }] };
  const { kopia } = kopiaOver([
    {
      argv: [...BASE, "show", `k${A}`, "--disable-file-logging", "--disable-content-log"],
      stdout: JSON.stringify(dir),
    },
    {
      argv: [...BASE, "show", `k${A}`, "--disable-file-logging", "--disable-content-log"],
      stdout: JSON.stringify(dir),
    },
  ]);
  expect((await kopia.showDirectory(`k${A}`)).entries[0]?.obj).toBe(A);
  await expect(kopia.showDirectory(`k${A}`, { maxBytes: 10 })).rejects.toThrow(/over 10 bytes/);
  await expect(kopia.showDirectory("-h")).rejects.toThrow(/not a kopia object ID/);
  // File names are untrusted: an error never quotes kopia's output.
  const { kopia: k2 } = kopiaOver([
    {
      argv: [...BASE, "show", `k${A}`, "--disable-file-logging", "--disable-content-log"],
      stdout: "evil\nname",
    },
  ]);
  const e = await k2.showDirectory(`k${A}`).catch((x: Error) => x);
  expect(String(e)).toContain("printed something that is not JSON");
  expect(String(e)).not.toContain("evil");
});
