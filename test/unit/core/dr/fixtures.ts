import type { BundleInput } from "../../../../src/core/dr/model.ts";

/** A bundle's input as `dr export` gathers it; `over` replaces whole fields. */
export function bundleInput(over: Partial<BundleInput> = {}): BundleInput {
  return {
    createdAt: new Date("2026-01-02T03:04:05Z"),
    host: "old-host",
    version: "1.2.3",
    kopiaVersion: "0.23.1",
    configPath: "/etc/kopi-docka/config.toml",
    configText: '[repository]\npath = "/srv/repo"\n',
    passwordFile: "/var/lib/kopi-docka/repository.password",
    password: "s3cret-password",
    carried: [{ key: "alerts.ca_file", path: "/etc/kd/ca.pem", data: new TextEncoder().encode("CA") }],
    env: [{ key: "repository.secret_env", variable: "S3_SECRET", value: "v" }],
    repositoryStatus: null,
    units: [],
    runs: [],
    ...over,
  };
}
