import { defineCommand } from "citty";
import { createDocker } from "../core/docker/docker.ts";
import { parseKopiaVersion } from "../core/kopia/parse.ts";
import { createBunRunner } from "../core/process/runner.ts";
import { emit } from "../ui/output.ts";
import { COMMIT, VERSION } from "../version.ts";
import { jsonArgs } from "./_shared.ts";

export default defineCommand({
  meta: { name: "version", description: "Print the versions of kopi-docka, kopia and docker. Exit 0." },
  args: { ...jsonArgs },
  async run({ args }) {
    const runner = createBunRunner();
    const kopiaOut = await runner
      .run(["kopia", "--version"], { check: false, timeoutMs: 10_000 })
      .catch(() => undefined);
    const docker = await createDocker(runner)
      .version()
      .catch(() => undefined);
    const info = {
      kopiDocka: VERSION,
      commit: COMMIT,
      bun: Bun.version,
      kopia: kopiaOut?.exitCode === 0 ? (parseKopiaVersion(kopiaOut.stdout) ?? null) : null,
      dockerClient: docker?.client ?? null,
      dockerServer: docker?.server ?? null,
    };
    emit(args, info, (v) => [
      `kopi-docka ${v.kopiDocka} (${v.commit}, bun ${v.bun})`,
      `kopia      ${v.kopia ?? "not found"}`,
      `docker     client ${v.dockerClient ?? "not found"}, engine ${v.dockerServer ?? "not reachable"}`,
    ]);
  },
});
