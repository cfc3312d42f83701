import { expect, test } from "bun:test";
import { buildDiscovery } from "../../../../src/core/discovery/discover.ts";
import { discoveryForJson } from "../../../../src/core/discovery/format.ts";
import { renderDiscovery } from "../../../../src/ui/discovery-report.ts";
import { config, facts, fakeFs } from "./fixtures.ts";

const d = buildDiscovery(facts("v1"), config(), { fs: fakeFs({}) });

test("--json output: no env, no environment values, everything else kept", () => {
  const text = JSON.stringify(discoveryForJson(d));
  expect(text).not.toContain("hunter2");
  expect(text).not.toContain('"env"');
  expect(text).toContain("POSTGRES_PASSWORD=***REDACTED***");
  expect(text).toContain('"Mounts"');
  // the in-memory model keeps env for redaction decisions
  expect(d.units[0]?.containers.some((c) => c.env.POSTGRES_PASSWORD === "hunter2")).toBe(true);
});

test("--json output: volume options, labels and command lines carry no secret either", () => {
  const unit = structuredClone(d.units[0]);
  if (!unit?.volumes[0] || !unit.containers[0]) throw new Error("fixture has a volume and a container");
  unit.volumes[0].options = { type: "cifs", o: "addr=nas,username=u,password=s3cret" };
  unit.containers[0].labels = { "traefik.http.middlewares.a.basicauth.users": "admin:$apr1$s3cret" };
  unit.containers[0].inspect = {
    ...unit.containers[0].inspect,
    Args: ["--requirepass", "s3cret"],
    HostConfig: { LogConfig: { Type: "splunk", Config: { "splunk-token": "s3cret" } } },
  };
  const text = JSON.stringify(discoveryForJson({ ...d, units: [unit] }));
  expect(text).not.toContain("s3cret");
  expect(text).toContain("addr=nas,username=u,password=***REDACTED***");
  expect(text).toContain('"traefik.http.middlewares.a.basicauth.users":"***REDACTED***"');
});

test("the table: running/total with the stopped ones, counts, what is left out and why", () => {
  const out = renderDiscovery(d);
  expect(out).not.toContain("hunter2");
  expect(out).toMatch(
    /kdfixture\s+compose\s+cold\s+1\/2 \(stopped: kdfixture_app_1\)\s+1\s+1\s+1\s+3 item\(s\) left out/,
  );
  expect(out).toMatch(/tools\s+standalone\s+cold\s+1\/1/);
  expect(out).toContain("left out   bind kdfixture_app_1:/proc: host internal path");
  expect(out).toContain("left out   mount kdfixture_app_1:/tmp/cache: tmpfs: not persistent");
});

test("sizes appear when measured", () => {
  const sized = buildDiscovery(facts("v1"), config(), { fs: fakeFs({}) });
  const v = sized.units[0]?.volumes[0];
  if (v) v.sizeBytes = 1536;
  expect(renderDiscovery(sized)).toContain("1 (1.5 KiB)");
  expect(renderDiscovery({ units: [], discoveredAt: "" })).toContain("No containers");
});
