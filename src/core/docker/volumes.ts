import { type Exec, inspectMany } from "./inspect.ts";
import { type VolumeInspect, VolumeInspectSchema } from "./schemas.ts";

/** What `docker volume create` is given: a restored volume gets its original driver, options and labels. */
export interface VolumeSpec {
  name: string;
  driver: string;
  options: Record<string, string>;
  labels: Record<string, string>;
}

export function volumeCreateArgv(v: VolumeSpec): string[] {
  const argv = ["volume", "create", "--driver", v.driver];
  for (const [k, val] of Object.entries(v.options)) argv.push("--opt", `${k}=${val}`);
  for (const [k, val] of Object.entries(v.labels)) argv.push("--label", `${k}=${val}`);
  return [...argv, v.name];
}

/** Volume operations of the client (see docker.ts). */
export function volumeOps(exec: Exec) {
  return {
    /** Inspect of many volumes in one process; ones that do not exist are absent. */
    volumeInspect(names: readonly string[]): Promise<VolumeInspect[]> {
      return inspectMany(exec, ["volume", "inspect"], names, VolumeInspectSchema);
    },

    async volumeCreate(spec: VolumeSpec): Promise<void> {
      await exec(volumeCreateArgv(spec), { timeoutMs: 60_000 });
    },

    /** Where the volume's data is on this host ("" or not a path for some remote drivers). */
    async volumeMountpoint(name: string): Promise<string> {
      const r = await exec(["volume", "inspect", "--format", "{{.Mountpoint}}", name], { timeoutMs: 30_000 });
      return r.stdout.trim();
    },
  };
}
