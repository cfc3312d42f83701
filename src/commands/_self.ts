/** This very kopi-docka: the compiled binary, or bun with the entry file when run from source. */
export const selfArgv = (): string[] =>
  Bun.isStandaloneExecutable ? [process.execPath] : [process.execPath, Bun.main];
