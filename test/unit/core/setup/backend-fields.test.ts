import { expect, test } from "bun:test";
import { backendFields, backendFlagArgs } from "../../../../src/core/setup/backends.ts";

test("the wizard's sftp questions are the schema's keys, the same ones the flags are named from", () => {
  const fields = backendFields("sftp");
  expect(fields.map((f) => f.key)).toEqual([
    "host",
    "port",
    "user",
    "path",
    "key_file",
    "known_hosts_file",
    "sftp_password_file",
    "sftp_password_env",
  ]);
  for (const f of fields) expect(backendFlagArgs()[f.flag]).toBeDefined();
  const port = fields.find((f) => f.key === "port");
  expect(port?.initial).toBe("22");
  expect(port?.check("2222")).toBeUndefined();
  expect(port?.check("70000")).toBeDefined();
  expect(port?.value("2222")).toBe(2222);
  const host = fields.find((f) => f.key === "host");
  expect(host?.optional).toBe(false);
  expect(host?.check("")).toBeDefined();
});

test("secrets are asked as a file path or a variable name, never the secret", () => {
  const s3 = backendFields("s3");
  const file = s3.find((f) => f.key === "secret_access_key_file");
  const env = s3.find((f) => f.key === "secret_access_key_env");
  expect(file?.secret).toBe("file");
  expect(file?.check("relative/path")).toBeDefined();
  expect(file?.check("/etc/kopi-docka/s3.secret")).toBeUndefined();
  expect(env?.secret).toBe("env");
  expect(env?.check("not a name")).toBeDefined();
  expect(env?.check("AWS_SECRET_ACCESS_KEY")).toBeUndefined();
  expect(env?.check("")).toBeUndefined();
});

test("a key that already names its backend is not named twice in its flag; flags stay unique", () => {
  const flags = Object.keys(backendFlagArgs());
  expect(flags).toContain("sftp-password-file");
  expect(flags).toContain("webdav-password-env");
  expect(flags).toContain("rclone-exe");
  expect(flags).toContain("server-cert-fingerprint");
  expect(flags.filter((f) => /^(\w+)-\1-/.test(f))).toEqual([]);
  expect(new Set(flags).size).toBe(flags.length);
  const sftp = backendFields("sftp").find((f) => f.key === "sftp_password_file");
  expect(sftp?.flag).toBe("sftp-password-file");
});
