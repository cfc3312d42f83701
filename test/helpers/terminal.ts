import { run } from "./env.ts";

/** tmux is what gives these tests a real terminal (test-env.sh installs it; CI never skips them). */
export const hasTmux = Bun.spawnSync(["tmux", "-V"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;

/**
 * A command in a real terminal: tmux runs it in a detached session, send-keys types, capture-pane
 * reads the screen (-J joins wrapped lines). `start` appends `echo EXIT=$?` so the exit code shows.
 */
export function terminal(session: string, size = { width: 160, height: 60 }) {
  const screen = async () => (await run(["tmux", "capture-pane", "-p", "-J", "-t", session])).stdout;
  return {
    async start(cmd: string) {
      const argv = [
        ...["tmux", "new-session", "-d", "-s", session],
        ...["-x", String(size.width), "-y", String(size.height)],
        `${cmd}; echo EXIT=$?; sleep 60`,
      ];
      // A session started while the last one's server is shutting down meets "server exited
      // unexpectedly" (sessions started and killed in a row); a moment later a new server starts.
      for (let attempt = 1; ; attempt++) {
        const r = await run(argv, { check: attempt === 3 });
        if (r.exitCode === 0) return r;
        await Bun.sleep(300);
      }
    },
    keys: (...k: string[]) => run(["tmux", "send-keys", "-t", session, ...k]),
    screen,
    /** The screen once it shows `text`; throws with the screen after `ms`. Polls every `everyMs`. */
    async waitFor(text: string, ms = 60_000, everyMs = 200): Promise<string> {
      for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(everyMs)) {
        const s = await screen();
        if (s.includes(text)) return s;
      }
      throw new Error(`"${text}" never appeared:\n${await screen()}`);
    },
    kill: () => run(["tmux", "kill-session", "-t", session], { check: false }),
  };
}
