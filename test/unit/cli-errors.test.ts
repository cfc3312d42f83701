import { afterEach, expect, spyOn, test } from "bun:test";
import { main } from "../../src/cli.ts";

const spies: { mockRestore(): void }[] = [];
afterEach(() => {
  for (const s of spies.splice(0)) s.mockRestore();
});

/** Runs the CLI with `argv`: its exit status and what it wrote to stderr. */
async function run(argv: string[]) {
  const err: string[] = [];
  spies.push(
    spyOn(process.stderr, "write").mockImplementation((chunk) => {
      err.push(String(chunk));
      return true;
    }),
  );
  const status = await main(argv);
  for (const s of spies.splice(0)) s.mockRestore();
  return { status, stderr: err.join("") };
}

test("a value citty refuses (an enum): exit 2, the message plain text, no escape codes as text or JSON", async () => {
  // A dry run: a real backup's typo without a terminal is alerted to this host's config's targets.
  const text = await run(["backup", "--dry-run", "--scope", "weird"]);
  expect(text.status).toBe(2);
  expect(text.stderr).toContain("kopi-docka: Invalid value for argument: --scope");
  expect(text.stderr).not.toContain("\\x1b");
  expect(text.stderr).not.toContain("\x1b");
  const json = await run(["backup", "--dry-run", "--scope", "weird", "--json"]);
  expect(json.status).toBe(2);
  const line = JSON.parse(json.stderr.trim());
  expect(line).toMatchObject({ type: "exit_error", code: "usage", exitCode: 2 });
  expect(line.message).toStartWith("Invalid value for argument: --scope");
  expect(line.message).not.toContain("\x1b");
});
