import { expect, test } from "bun:test";
import { createDocker } from "../../../../src/core/docker/docker.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { restoreVolume } from "../../../../src/core/restore/content.ts";
import type { VolumeStep } from "../../../../src/core/restore/types.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { config } from "../backup/fixtures.ts";

// Issue 14: Docker mounts an nfs/cifs volume only while a container uses it. A restore into its
// unmounted mountpoint would write where no container ever looks: refused, nothing written.
test("a volume Docker mounts only in use (nfs) is refused before kopia writes anything", async () => {
  const inspect = [
    {
      Name: "v",
      Driver: "local",
      Mountpoint: "/var/lib/docker/volumes/v/_data",
      Options: { type: "nfs", o: "addr=127.0.0.1", device: ":/x" },
    },
  ];
  const runner = new FakeRunner([
    { argv: ["docker", "volume", "inspect", "v"], stdout: JSON.stringify(inspect) },
  ]);
  const kopia = createKopia(runner, {
    configFile: "/k",
    cacheDir: "/c",
    logDir: "/l",
    password: () => "pw",
    hostname: "h",
    username: "kopi-docka",
  });
  const step = {
    name: "v",
    from: "v",
    snapshotId: "k1",
    sizeBytes: 1,
    files: 1,
    action: "overwrite",
    driver: "local",
    options: {},
    labels: {},
  } as VolumeStep;
  const c = {
    docker: createDocker(runner),
    kopia,
    log: silentLogger(),
    signal: new AbortController().signal,
    hostname: "h",
    version: "1",
    config: config(),
  };
  await expect(restoreVolume(c, step)).rejects.toThrow(
    "volume v cannot be restored from this host: type=nfs",
  );
  expect(runner.calls.map((x) => x.argv[0])).toEqual(["docker"]);
});
