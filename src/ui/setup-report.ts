/** What `setup` prints when it is done. */
export function renderSetup(r: {
  configPath: string;
  backup?: string;
  repositoryCreated: boolean;
  repositoryPath: string;
  passwordFile: string;
  schedule: string;
  drBundle?: string;
}): string[] {
  return [
    `config: ${r.configPath}${r.backup ? ` (the old one kept as ${r.backup})` : ""}`,
    `repository: ${r.repositoryPath} (${r.repositoryCreated ? "created" : "connected"})`,
    `password file: ${r.passwordFile}`,
    `schedule: ${r.schedule}`,
    ...(r.drBundle
      ? [`DR bundle: ${r.drBundle} (holds the password; keep it and its passphrase away from this host)`]
      : []),
    r.drBundle
      ? "next: kopi-docka backup"
      : "next: kopi-docka backup, then kopi-docka dr export (keeps config and password safe elsewhere)",
  ];
}

/** A generated repository password, shown once on the terminal (stderr), with advice. */
export function showPasswordOnce(
  password: string,
  file: string,
  terminal = process.stderr.isTTY === true,
): void {
  // Not on a terminal: a log would keep it. It is in the file; the person is told where.
  if (!terminal) {
    process.stderr.write(
      `\nRepository password generated in ${file} (0600). Keep a copy away from this host — without it\n` +
        "the backups cannot be read. Easiest: `kopi-docka dr export` puts it in an encrypted bundle.\n",
    );
    return;
  }
  process.stderr.write(
    [
      "",
      `Repository password (also in ${file}, 0600). Keep a copy away from this host — without it`,
      "the backups cannot be read. Easiest: `kopi-docka dr export` puts it in an encrypted bundle.",
      "",
      `    ${password}`,
      "",
    ].join("\n"),
  );
}
