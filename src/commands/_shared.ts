/** Argument groups shared by commands, so every command spells them the same way. */
export const configArgs = {
  config: {
    type: "string",
    description: "Config file (default /etc/kopi-docka/config.toml, or $KOPI_DOCKA_CONFIG)",
    valueHint: "path",
  },
} as const;

export const logArgs = {
  verbose: { type: "boolean", description: "Log every command run and other detail (stderr)" },
  quiet: { type: "boolean", description: "Log errors only (stderr)" },
} as const;

export const jsonArgs = {
  json: { type: "boolean", description: "Print machine-readable JSON on stdout" },
} as const;

export const dryRunArgs = {
  "dry-run": { type: "boolean", description: "Print the plan and change nothing" },
} as const;

export const commonArgs = { ...configArgs, ...logArgs, ...jsonArgs } as const;

/** A string flag named at run time (citty types those loosely); undefined when absent or not a string. */
export function stringArg(args: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const v = args[name];
  return typeof v === "string" ? v : undefined;
}
