import { expect, test } from "bun:test";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";

const kopia = (runner: FakeRunner) =>
  createKopia(runner, {
    configFile: "/x/c",
    cacheDir: "/c",
    logDir: "/l",
    password: () => "pw",
    hostname: "h",
    username: "u",
  });

// Ids come back from the repository: one shaped like a flag would widen a delete to a whole source.
test("a snapshot id that is no id is refused before kopia runs: delete and pin", async () => {
  const runner = new FakeRunner([]);
  const k = kopia(runner);
  const forged = ["5b6b01b55fed0d442550f5588e3c563d", "--all-snapshots-for-source"];
  await expect(k.snapshotDelete(forged)).rejects.toThrow(/snapshot id that is not one.*nothing was changed/);
  await expect(k.snapshotPin(forged, { add: ["keep"] })).rejects.toThrow(/snapshot id that is not one/);
  expect(runner.calls).toEqual([]);
});
