import { describe, expect, test } from "bun:test";
import { composeFacts } from "../../../../src/core/restore/compose-facts.ts";

describe("composeFacts: what a copy must rename or move", () => {
  test("entries that name their object or keep data elsewhere, whole; others not listed", () => {
    const text =
      "volumes:\n  plain:\n  data:\n    name: app_data\n    labels: [a=b]\n  ext:\n    external: true\n" +
      "  notext:\n    external: false\n  dev:\n    driver_opts: { type: none, o: bind, device: /srv/d }\n" +
      "networks:\n  front:\n    driver: bridge\n  back:\n    name: app_net\n    internal: true\n";
    expect(composeFacts([text])?.fixed).toEqual({
      volumes: {
        data: { name: "app_data", labels: ["a=b"] },
        ext: { external: true },
        dev: { driver_opts: { type: "none", o: "bind", device: "/srv/d" } },
      },
      networks: { back: { name: "app_net", internal: true } },
    });
    expect(composeFacts(["volumes:\n  plain:\nnetworks:\n  front: {}\n"])?.fixed).toBeUndefined();
  });

  test("later files merge into earlier ones key by key, as `-f a -f b` does", () => {
    const a = "volumes:\n  data:\n    driver: local\n    driver_opts: { type: none, o: bind, device: /a }\n";
    const b = "volumes:\n  data:\n    name: app_data\n    driver_opts: { device: /b }\n  other:\n";
    const c = "volumes:\n  data:\n";
    expect(composeFacts([a, b, c])?.fixed?.volumes).toEqual({
      data: { driver: "local", driver_opts: { type: "none", o: "bind", device: "/b" }, name: "app_data" },
    });
  });

  test("host binds outside the project, read as the mount judge reads them (a variable's own `:-`)", () => {
    const text =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable, as the file writes it
      "services:\n  app:\n    volumes:\n      - '${DATA:-/srv/data}:/data'\n      - ./rel:/rel\n" +
      "      - named:/named\n      - /anon\n      - { type: bind, source: ~/cfg, target: /cfg }\n" +
      "      - { type: volume, source: /looks/like/a/path, target: /v }\n";
    expect(composeFacts([text])?.hostBinds).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable, as the file writes it
      { service: "app", source: "${DATA:-/srv/data}" },
      { service: "app", source: "~/cfg" },
    ]);
  });

  test("services that share a container by name, from every file, once each", () => {
    const a =
      "services:\n  app:\n    volumes_from: ['container:db1:ro', other]\n    network_mode: 'container:vpn'\n" +
      "  b:\n    network_mode: 'service:app'\n";
    const b = "services:\n  app:\n    volumes_from: ['container:db1:ro']\n";
    expect(composeFacts([a, b])?.sharing).toEqual([
      { service: "app", key: "volumes_from", container: "db1" },
      { service: "app", key: "network_mode", container: "vpn" },
    ]);
    expect(composeFacts(["services:\n  app: {}\n"])?.sharing).toBeUndefined();
  });

  test("an untrusted file cannot swap an entry's prototype", () => {
    const facts = composeFacts([
      "volumes:\n  data:\n    name: x\n",
      'volumes:\n  data:\n    "__proto__": { polluted: true }\n',
    ]);
    const data = facts?.fixed?.volumes.data ?? {};
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect((data as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
