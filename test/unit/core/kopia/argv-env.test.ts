import { expect, test } from "bun:test";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { fakeKopia } from "../backup/fixtures.ts";

const kopia = fakeKopia;

// Ids come back from the repository: one shaped like a flag would widen a delete to a whole source.
test("a snapshot id that is no id is refused before kopia runs: delete and pin", async () => {
  const runner = new FakeRunner([]);
  const k = kopia(runner);
  const forged = ["5b6b01b55fed0d442550f5588e3c563d", "--all-snapshots-for-source"];
  await expect(k.snapshotDelete(forged)).rejects.toThrow(/snapshot id that is not one.*nothing was changed/);
  await expect(k.snapshotPin(forged, { add: ["keep"] })).rejects.toThrow(/snapshot id that is not one/);
  expect(runner.calls).toEqual([]);
});

test("a snapshot id that is no id is refused before kopia runs: restore and verify", async () => {
  const runner = new FakeRunner([]);
  const k = kopia(runner);
  await expect(k.snapshotRestore("--x", "/t")).rejects.toThrow(
    /snapshot id that is not one.*\/t was not written/,
  );
  await expect(k.snapshotVerify(["5b6b01b55fed0d44", "--all-sources"], 10)).rejects.toThrow(
    /snapshot id that is not one.*nothing was verified/,
  );
  expect(runner.calls).toEqual([]);
});

// kopia takes a storage flag it is not given from the environment: an admin's shell must not decide.
test("kopia never inherits storage variables; a backend's own, set per call, pass; a person's own kopia keeps them", async () => {
  const runner = new FakeRunner([
    { argv: (a) => a.includes("connect") },
    { argv: (a) => a.includes("--version") },
  ]);
  const k = kopia(runner);
  await k.connect(["azure", "--container", "c", "--storage-account", "acct"], {
    env: { AZURE_STORAGE_KEY: "k" },
  });
  const env = runner.calls[0]?.options.env ?? {};
  expect("AZURE_STORAGE_DOMAIN" in env && env.AZURE_STORAGE_DOMAIN === undefined).toBe(true);
  expect("AWS_SESSION_TOKEN" in env && env.AWS_SESSION_TOKEN === undefined).toBe(true);
  expect(env.AZURE_STORAGE_KEY).toBe("k");
  await k.passthrough(["--version"]);
  expect("AZURE_STORAGE_DOMAIN" in (runner.calls[1]?.options.env ?? {})).toBe(false);
});

// Every byte a cold snapshot reads new is hashed inside the cold window: BLAKE3 does it at twice the speed.
test("repository create hashes with BLAKE3; connect sets no format (a repository keeps its own)", async () => {
  const runner = new FakeRunner([
    { argv: (a) => a.includes("create") },
    { argv: (a) => a.includes("connect") },
  ]);
  const k = kopia(runner);
  await k.create(["filesystem", "--path", "/srv/repo"]);
  await k.connect(["filesystem", "--path", "/srv/repo"]);
  const [create, connect] = runner.calls.map((c) => c.argv.join(" "));
  expect(create).toContain("repository create filesystem --path /srv/repo --block-hash BLAKE3-256-128 ");
  expect(connect).not.toContain("--block-hash");
});
