/**
 * Prompts are allowed only when a person is surely there: stdin and stdout are terminals and CI is
 * unset. A systemd run has neither, so it can never block on a question.
 */
export function isInteractive(env = process.env): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && !env.CI;
}
