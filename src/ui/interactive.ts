/**
 * Prompts are allowed only when a person is surely there: stdin and stdout are terminals and CI is
 * unset. A systemd run has neither, so it can never block on a question.
 */
export function isInteractive(env = process.env): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && !env.CI;
}

/**
 * A person reads this run's errors where they typed it: stdin and stderr are terminals and CI is
 * unset. stdout may be a pipe (`kopi-docka backup | tee log`): errors go to stderr, which the person
 * still sees. This decides whether an error is theirs to see or an alert's to tell; prompts keep
 * `isInteractive`, as a question drawn into a piped stdout would land in its data.
 */
export function atTerminal(env = process.env): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && !env.CI;
}
