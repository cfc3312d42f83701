import { expect, test } from "bun:test";
import { UsageError } from "../../../../src/core/errors.ts";
import { DEFAULT_RELEASE_URL, releaseUrl } from "../../../../src/core/upgrade/release.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";

const refusal = (flag: string | undefined, env: string | undefined) => {
  try {
    releaseUrl(flag, env);
  } catch (e) {
    return e;
  }
  throw new Error("not refused");
};

test("--release-url that is no http(s) URL: a usage error naming the flag, before anything is fetched", () => {
  const e = refusal("notaurl", undefined);
  expect(e).toBeInstanceOf(UsageError);
  expect(exitCodeFor(e)).toBe(2);
  expect(String((e as UsageError).message)).toBe('--release-url "notaurl" is not an http(s) URL');
  expect(String((refusal("file:///srv/releases", "https://ok.example") as UsageError).message)).toContain(
    "--release-url",
  );
  // From the environment: named as such.
  expect(String((refusal(undefined, "ftp://x") as UsageError).message)).toBe(
    'KOPI_DOCKA_RELEASE_URL "ftp://x" is not an http(s) URL',
  );
});

test("the flag beats the environment, the environment the default", () => {
  expect(releaseUrl("http://127.0.0.1:8080", "https://env.example")).toBe("http://127.0.0.1:8080");
  expect(releaseUrl(undefined, "https://env.example/r")).toBe("https://env.example/r");
  expect(releaseUrl(undefined, "")).toBe(DEFAULT_RELEASE_URL);
});
