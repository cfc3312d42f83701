import { expect, test } from "bun:test";
import type { RepositoryConfig } from "../../../../src/config/schema.ts";
import { credentialsRefused } from "../../../../src/core/repository/problems.ts";

const hint = (repo: Record<string, unknown>) =>
  credentialsRefused(new Error("refused"), repo as unknown as RepositoryConfig, "there").hint;

test("a refusal's hint names the settings this config reads the storage secrets from", () => {
  expect(hint({ backend: "azure", container: "c", storage_account: "a", storage_key_file: "/k" })).toBe(
    "check repository.storage_key_file (the azure credentials)",
  );
  expect(hint({ backend: "azure", container: "c", client_id: "i", client_secret_env: "AZ_SECRET" })).toBe(
    "check repository.client_secret_env (the azure credentials)",
  );
  expect(hint({ backend: "b2", bucket: "b", key_id_env: "B2_ID", application_key_file: "/k" })).toBe(
    "check repository.key_id_env and repository.application_key_file (the b2 credentials)",
  );
  expect(hint({ backend: "gcs", bucket: "b", credentials_file: "/sa.json" })).toBe(
    "check the service account key in repository.credentials_file (/sa.json): its account needs access to the bucket",
  );
  expect(hint({ backend: "sftp", host: "h", user: "bk", key_file: "/k" })).toBe(
    "check that the public half of repository.key_file is in ~bk/.ssh/authorized_keys on h",
  );
});

test("rclone: the secret is in rclone's config, not in [repository]", () => {
  expect(hint({ backend: "rclone", remote_path: "box:kopia", config_file: "/etc/kd/rclone.conf" })).toBe(
    "check the remote's credentials in the rclone config repository.config_file (/etc/kd/rclone.conf); `RCLONE_CONFIG=/etc/kd/rclone.conf rclone lsd box:` tries them",
  );
  expect(hint({ backend: "rclone", remote_path: "box:kopia" })).toBe(
    "check the remote's credentials in root's rclone config (`rclone config file` names it); `rclone lsd box:` tries them",
  );
});
