import { defineCommand } from "citty";
import { createDocker } from "../core/docker/docker.ts";
import { parseKopiaVersion } from "../core/kopia/parse.ts";
import { createBunRunner } from "../core/process/runner.ts";
import { printJson, printLine } from "../ui/output.ts";
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
    if (args.json) return printJson(info);
    printLine(`kopi-docka ${info.kopiDocka} (${info.commit}, bun ${info.bun})`);
    printLine(`kopia      ${info.kopia ?? "not found"}`);
    printLine(
      `docker     client ${info.dockerClient ?? "not found"}, engine ${info.dockerServer ?? "not reachable"}`,
    );
  },
});
