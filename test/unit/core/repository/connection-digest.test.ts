import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  connectionInputs,
  digestMatches,
  savedHoldsSecrets,
  sealDigest,
} from "../../../../src/core/repository/connection-digest.ts";
import { tempDir } from "../../../helpers/env.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const argv = ["s3", "--bucket", "b", "--endpoint", "s3.example"];
const env = { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "s3cret-value" };

describe("connection digest", () => {
  test("the same inputs match, a changed secret, flag or variable does not", () => {
    const sealed = sealDigest(connectionInputs(argv, env));
    expect(digestMatches(sealed, connectionInputs(argv, { ...env }))).toBe(true);
    // the order variables come in does not matter
    const reordered = { AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY, AWS_ACCESS_KEY_ID: "AKID" };
    expect(digestMatches(sealed, connectionInputs(argv, reordered))).toBe(true);
    expect(digestMatches(sealed, connectionInputs(argv, { ...env, AWS_SECRET_ACCESS_KEY: "rotated" }))).toBe(
      false,
    );
    expect(digestMatches(sealed, connectionInputs([...argv, "--region", "x"], env))).toBe(false);
  });

  test("salted: two seals of one input differ, and neither holds a secret", () => {
    const inputs = connectionInputs(argv, env);
    const [a, b] = [sealDigest(inputs), sealDigest(inputs)];
    expect(a).not.toBe(b);
    for (const s of [a, b]) {
      expect(s).toMatch(/^hmac-sha256:[0-9a-f]{32}:[0-9a-f]{64}$/);
      expect(s).not.toContain("s3cret");
    }
  });

  test("a malformed digest never matches", () => {
    const inputs = connectionInputs(argv, env);
    for (const bad of ["", "sha256:00:00", "hmac-sha256::", "hmac-sha256:00:zz", "hmac-sha256:00:00"])
      expect(digestMatches(bad, inputs)).toBe(false);
  });

  test("a file the argv names counts by its bytes (a renewed CA at the same path)", () => {
    const t = tempDir("kdt-digest-");
    dirs.push(t);
    const ca = join(t.path, "ca.pem");
    writeFileSync(ca, "old CA");
    const withCa = [...argv, "--root-ca-pem-path", ca];
    const sealed = sealDigest(connectionInputs(withCa, env));
    expect(digestMatches(sealed, connectionInputs(withCa, env))).toBe(true);
    writeFileSync(ca, "renewed CA");
    expect(digestMatches(sealed, connectionInputs(withCa, env))).toBe(false);
  });

  test("kopia's saved storage holds each configured secret, or not", () => {
    const saved = {
      storage: { type: "s3", config: { accessKeyID: "AKID", secretAccessKey: "s3cret-value" } },
    };
    expect(savedHoldsSecrets(saved, ["AKID", "s3cret-value"])).toBe(true);
    expect(savedHoldsSecrets(saved, ["AKID", "rotated"])).toBe(false);
    expect(savedHoldsSecrets({}, [])).toBe(true);
    expect(savedHoldsSecrets({ apiServer: { url: "https://x" } }, ["x"])).toBe(false);
  });
});
