import { describe, expect, test } from "bun:test";
import { groupUnits } from "../../../../src/core/discovery/group.ts";
import { imageRepository } from "../../../../src/core/discovery/image-trust.ts";
import { inheritedKdLabels } from "../../../../src/core/discovery/labels.ts";
import { config, container } from "../backup/fixtures.ts";

describe("kopi-docka labels from the image", () => {
  test("inherited = same key and value in the image; other labels and changed values are the host's", () => {
    const image = { "kopi-docka.exclude": "true", "kopi-docka.stop": "false", maintainer: "x" };
    const c = { "kopi-docka.exclude": "true", "kopi-docka.stop": "true", maintainer: "x", a: "b" };
    expect(inheritedKdLabels(c, image)).toEqual(["kopi-docka.exclude"]);
  });

  test("the repository of an image reference", () => {
    expect(imageRepository("reg:5000/acme/app:1.2@sha256:abc")).toBe("reg:5000/acme/app");
    expect(imageRepository("reg:5000/acme/app")).toBe("reg:5000/acme/app");
    expect(imageRepository("busybox:1")).toBe("busybox");
  });

  test("an untrusted image's exclude-volumes is ignored; a trusted one's counts", () => {
    const c = () =>
      container("app", {
        image: "acme/app:2",
        labels: { "kopi-docka.exclude-volumes": "db" },
        imageLabels: ["kopi-docka.exclude-volumes"],
      });
    const [u] = groupUnits([c()], config());
    expect(u?.excludeVolumes.size).toBe(0);
    expect(u?.containers[0]?.ignoredLabels?.[0]).toContain("[units.app] exclude_volumes");
    const [t] = groupUnits([c()], config({ backup: { trust_image_labels: ["acme/app"] } }));
    expect([...(t?.excludeVolumes.keys() ?? [])]).toEqual(["db"]);
  });

  test("an untrusted image's kopi-docka.dump is ignored (it would leave the data volume to a dump); the config confirms it", () => {
    const c = () =>
      container("db", {
        image: "acme/db:2",
        labels: { "kopi-docka.dump": "mongo", "kopi-docka.mode": "dump" },
        dump: "mongo",
        mode: "dump",
        imageLabels: ["kopi-docka.dump"],
      });
    const [u] = groupUnits([c()], config());
    expect(u?.containers[0]?.dump).toBeUndefined();
    expect(u?.containers[0]?.ignoredLabels?.[0]).toContain('[units.db] dump = "mongo"');
    const [t] = groupUnits([c()], config({ backup: { trust_image_labels: ["acme/db"] } }));
    expect(t?.containers[0]?.dump).toBe("mongo");
  });
});
