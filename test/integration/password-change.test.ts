import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ProcessError } from "../../src/core/errors.ts";
import { createKopia } from "../../src/core/kopia/kopia.ts";
import { silentLogger } from "../../src/core/log.ts";
import { createBunRunner, type Runner } from "../../src/core/process/runner.ts";
import { changePassword } from "../../src/core/repository/password-change.ts";
import { Lifecycle } from "../../src/core/safe-exit.ts";
import { describeReal, tempDir } from "../helpers/env.ts";
import { tempKopia } from "../helpers/kopia.ts";

// kopia writes the new key and can still fail (the close, a lost reply, a timeout, a signal). The
// change-password call below runs for real and its success is then reported as a failure, the way
// such a failure reaches kopi-docka: the repository takes the new password while kopia said no.
describeReal("change-password when kopia fails after the change reached the repository", ["kopia"], () => {
  const dir = tempDir("kdt-pwchange-");
  afterAll(() => dir.remove());

  test("the change is finished: the password file holds the password the repository takes", async () => {
    const real = createBunRunner();
    const failsAfter: Runner = {
      run: async (argv, o) => {
        const r = await real.run(argv, o);
        if (!argv.includes("change-password")) return r;
        throw new ProcessError({ argv, exitCode: 1, signal: null, stderrTail: "error closing repository" });
      },
    };
    const { repo, open } = tempKopia(dir.path, { runner: failsAfter });
    await open(); // creates the repository and its password file
    const old = readFileSync(repo.password_file, "utf8").trim();
    const kopia = tempKopia(dir.path, { runner: failsAfter }).kopia;
    await kopia.run(["repository", "status"]); // kopia's format blob cache now holds the old key
    const newFile = join(dir.path, "new.password");
    writeFileSync(newFile, "the-new-password-42\n", { mode: 0o600 });
    const deps = {
      kopia,
      runner: failsAfter,
      config: { repository: repo },
      paths: {
        stateDir: dir.path,
        kopiaConfigFile: kopia.options.configFile,
        lockFile: join(dir.path, "lock"),
      },
      log: silentLogger(),
      lifecycle: new Lifecycle(),
    };
    expect(await changePassword(deps, { newPasswordFile: newFile })).toEqual({ file: repo.password_file });
    expect(readFileSync(repo.password_file, "utf8").trim()).toBe("the-new-password-42");
    expect(existsSync(`${repo.password_file}.new`)).toBe(false);
    // This host's own connection opens with the new password at once (no stale cached format blob).
    await kopia.run(["repository", "status"]);
    // A fresh connection (no cache) with each password: the new one opens, the old one does not.
    const fresh = (password: string, name: string) =>
      createKopia(real, {
        ...kopia.options,
        configFile: join(dir.path, name, "kopia.config"),
        cacheDir: join(dir.path, name, "cache"),
        password: () => password,
      });
    await fresh("the-new-password-42", "check-new").connect(["filesystem", "--path", repo.path]);
    expect(old).not.toBe("the-new-password-42");
    const withOld = await fresh(old, "check-old")
      .connect(["filesystem", "--path", repo.path])
      .catch((e) => e);
    expect(withOld.message).toBe("the repository password is wrong");
  }, 120_000);
});
