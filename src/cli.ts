#!/usr/bin/env bun
/**
 * Entry point: the root command, the single signal path, and the one table that turns typed errors
 * into exit codes. The only file in kopi-docka that calls process.exit.
 */
import { defineCommand, renderUsage, runCommand } from "citty";
import { rejectUnknownArgs, resolveChain } from "./cli-args.ts";
import { alertUnparsedBackup } from "./commands/_unparsed-backup.ts";
import { commands } from "./commands/index.ts";
import { errorMessage } from "./core/caught.ts";
import { markRunProcess } from "./core/containers/orphans.ts";
import { AppError, InterruptedError, UsageError } from "./core/errors.ts";
import { printable } from "./core/log.ts";
import { installExitSafetyNet, installSignalHandlers, PRIORITY, processLifecycle } from "./core/safe-exit.ts";
import { EXIT_CODES, exitCodeFor, exitStatusAfterSignal } from "./exit-codes.ts";
import { VERSION } from "./version.ts";

export { EXIT_CODES, exitCodeFor };

export const root = defineCommand({
  meta: {
    name: "kopi-docka",
    version: VERSION,
    description:
      "Cold, consistent backups of Docker workloads into Kopia, and restores that bring them back.",
  },
  subCommands: commands,
});

function reportError(e: unknown, allArgv: readonly string[]): void {
  const argv = allArgv.includes("--") ? allArgv.slice(0, allArgv.indexOf("--")) : allArgv;
  const json = argv.includes("--json");
  const verbose = argv.includes("--verbose");
  const message = errorMessage(e);
  const hint = e instanceof AppError ? e.hint : undefined;
  const code = e instanceof AppError ? e.code : "internal";
  if (json) {
    process.stderr.write(
      `${JSON.stringify({ type: "exit_error", code, exitCode: exitCodeFor(e), message, hint })}\n`,
    );
    return;
  }
  process.stderr.write(`kopi-docka: ${printable(message)}\n`);
  if (hint) process.stderr.write(`  hint: ${printable(hint)}\n`);
  if (!(e instanceof AppError)) {
    process.stderr.write(
      verbose && e instanceof Error ? `${e.stack}\n` : "  (an internal error; --verbose shows where)\n",
    );
  }
}

/** Runs the CLI and returns the exit status; the caller exits. */
export async function main(argv: readonly string[]): Promise<number> {
  // `backup`'s own argv, and whether citty has run it: a typo in it is alerted (`_unparsed-backup.ts`).
  let backupArgv: readonly string[] | undefined;
  let running = false;
  try {
    const { chain, leaf, leafArgv, helpBefore } = await resolveChain(root, argv);
    if (leaf === commands.backup) backupArgv = leafArgv;
    const path = ["kopi-docka", ...argv.filter((a) => !a.startsWith("-")).slice(0, chain.length - 1)].join(
      " ",
    );
    if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    // After `--` the words are another program's (`kopi-docka kopia -- snapshot list --help`).
    const ours = leafArgv.includes("--") ? leafArgv.slice(0, leafArgv.indexOf("--")) : leafArgv;
    const wantsHelp = helpBefore || ours.includes("--help") || ours.includes("-h");
    if (!wantsHelp) await rejectUnknownArgs(leaf, leafArgv, path);
    if (wantsHelp || (leaf.subCommands && !leaf.run && leafArgv.length === 0)) {
      const usage = await renderUsage(leaf, chain[chain.length - 2]);
      // citty colours its help even into a pipe; a pipe gets plain text.
      process.stdout.write(`${process.stdout.isTTY ? usage : Bun.stripANSI(usage)}\n`);
      return 0;
    }
    running = true;
    await runCommand(root, { rawArgs: [...argv] });
    processLifecycle.throwIfInterrupted();
    await processLifecycle.runAll();
    return 0;
  } catch (e) {
    // citty colours the flag in its message: as text (and in --json) those are escape codes.
    const citty = e instanceof Error && e.name === "CLIError";
    const err = citty ? new UsageError(Bun.stripANSI(e.message)) : e;
    // citty's errors are its parsing of the arguments, before the command runs.
    if (backupArgv && err instanceof UsageError && (!running || citty))
      await alertUnparsedBackup(backupArgv, err);
    await processLifecycle.runAll();
    const interrupted = processLifecycle.interruptedBy;
    // A signal decides the status (130/143), whatever the aborted work threw, so the exit does not
    // depend on which path (this one or the signal handler) exits first. Only a failed restart, which
    // leaves a container stopped, keeps its own code.
    const down = processLifecycle.failed(PRIORITY.restartContainers);
    const final =
      interrupted && !(err instanceof AppError && err.code === "restart_failed")
        ? down.length > 0
          ? new AppError(
              "restart_failed",
              `interrupted by ${interrupted}, and NOT done on the way out: ${down.map((f) => `${f.name} (${errorMessage(f.error)})`).join("; ")}`,
              {
                hint: "start them now (`docker start <name>`, or `kopi-docka recover`) and check `docker logs`",
              },
            )
          : new InterruptedError(interrupted)
        : err;
    reportError(final, argv);
    return exitCodeFor(final);
  }
}

if (import.meta.main) {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    // `kopi-docka list | head` closes the pipe early; that is not a failure.
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
  markRunProcess();
  installExitSafetyNet();
  // A restart that failed on the way out outranks the signal's status.
  installSignalHandlers(processLifecycle, (status) => {
    const sig = processLifecycle.interruptedBy;
    process.exit(sig ? exitStatusAfterSignal(sig, processLifecycle) : status);
  });
  const status = await main(process.argv.slice(2));
  process.exit(status);
}
