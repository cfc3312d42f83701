import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import * as p from "@clack/prompts";
import { COMPRESSIONS } from "../config/schema-repository.ts";
import { AppError } from "../core/errors.ts";
import { DEFAULT_ON_CALENDAR, type SetupFlags } from "../core/setup/flags.ts";
import type { SetupAnswers } from "../core/setup/model.ts";
import { type LocationDeps, whereBackupsGo } from "./setup-wizard-location.ts";
import { answer, cancelled } from "./setup-wizard-prompt.ts";

export interface WizardDeps extends LocationDeps {
  /** One line per dependency found; throws naming what is missing and how to install it. */
  checkDependencies: () => Promise<string[]>;
  /** Whether `password` opens the repository the answers name (read-only). */
  passwordOpens: (a: SetupAnswers, password: string) => Promise<boolean>;
  /** `backup --dry-run` with the answers so far: its output. */
  dryRun: (a: SetupAnswers) => Promise<string>;
  /** Rejects an OnCalendar expression systemd would not take (a `UsageError`, exit 2). */
  checkCalendar: (expr: string) => Promise<void>;
  configExists: boolean;
}

const isDirectory = (path: string) => statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
const step = (n: number, title: string) => p.log.step(`${n}/8 ${title}`);

/** The password of an existing repository: the file when it opens it, else asked, three tries. */
async function existingPassword(a: SetupAnswers, d: WizardDeps): Promise<SetupAnswers["password"]> {
  if (existsSync(a.passwordFile)) {
    const text = (await Bun.file(a.passwordFile).text()).trim();
    if (await d.passwordOpens(a, text)) {
      p.log.success(`${a.passwordFile} opens the repository`);
      return { kind: "existing" };
    }
    throw new AppError(
      "repository_auth",
      `${a.passwordFile} does not open the repository at ${a.repositoryPath}`,
      {
        hint: "fix or move that file, then run setup again; nothing was written",
      },
    );
  }
  for (let attempt = 1; attempt <= 3; attempt++) {
    const value = answer(
      await p.password({ message: `Password of the existing repository (try ${attempt} of 3)` }),
    );
    if (await d.passwordOpens(a, value)) {
      p.log.success("the password opens the repository");
      return { kind: "typed", value };
    }
    p.log.error("wrong password");
  }
  throw new AppError("repository_auth", "three wrong passwords; nothing was written");
}

async function newPassword(a: SetupAnswers): Promise<SetupAnswers["password"]> {
  if (existsSync(a.passwordFile)) {
    p.log.info(`using the password in ${a.passwordFile}`);
    return { kind: "existing" };
  }
  const how = answer(
    await p.select({
      message: "Repository password",
      options: [
        { value: "generate", label: "Generate a strong one", hint: "shown once at the end; keep a copy" },
        { value: "type", label: "Type one" },
      ],
    }),
  );
  if (how === "generate") return { kind: "generate" };
  for (;;) {
    const one = answer(
      await p.password({
        message: "Password (12 characters or more)",
        validate: (v) => ((v ?? "").length < 12 ? "at least 12 characters" : undefined),
      }),
    );
    const two = answer(await p.password({ message: "The same password again" }));
    if (one === two) return { kind: "typed", value: one };
    p.log.error("the two passwords differ; again");
  }
}

/**
 * The setup wizard: eight steps, each asking only what flags left open, starting from the current
 * config's values. Nothing is written here; the command commits the answers afterwards.
 */
export async function setupWizard(
  start: SetupAnswers,
  f: SetupFlags,
  d: WizardDeps,
): Promise<{ answers: SetupAnswers; force: boolean }> {
  p.intro("kopi-docka setup");
  const a: SetupAnswers = { ...start, retention: { ...start.retention } };
  step(1, "dependencies");
  for (const line of await d.checkDependencies()) p.log.success(line);

  step(2, "where backups go");
  const state = await whereBackupsGo(a, start, f, d);
  const where = a.backend === "filesystem" ? a.repositoryPath : `the ${a.backend} location`;
  p.log.info(
    state === "existing"
      ? `a kopia repository exists at ${where}: it will be connected, never overwritten`
      : `a new repository will be made at ${where}`,
  );

  step(3, "password");
  a.password = state === "existing" ? await existingPassword(a, d) : await newPassword(a);

  if (f.drBundle === undefined) {
    const file = answer(
      await p.text({
        message:
          "Put the password into an encrypted DR bundle now? Its file (empty: show the password once instead)",
        defaultValue: "",
        placeholder: "none",
        validate: (v) =>
          !v
            ? undefined
            : !v.startsWith("/")
              ? "an absolute path, or empty"
              : !isDirectory(dirname(v))
                ? `${dirname(v)} is not an existing directory`
                : undefined,
      }),
    );
    a.drBundle = file.trim() || undefined;
  }

  step(4, "retention and compression");
  const r = a.retention;
  const keepLine = `latest ${r.latest}, hourly ${r.hourly}, daily ${r.daily}, weekly ${r.weekly}, monthly ${r.monthly}, annual ${r.annual}; ${a.compression}`;
  if (!answer(await p.confirm({ message: `Keep ${keepLine}?`, initialValue: true }))) {
    for (const k of Object.keys(r) as (keyof typeof r)[]) {
      const v = answer(
        await p.text({
          message: `Snapshots to keep: ${k}`,
          initialValue: String(r[k]),
          validate: (x) => (/^\d{1,4}$/.test(x ?? "") ? undefined : "a number"),
        }),
      );
      r[k] = Number(v);
    }
    a.compression = answer(
      await p.select({
        message: "Compression",
        initialValue: a.compression,
        options: COMPRESSIONS.map((c) => ({ value: c, label: c })),
      }),
    );
  }

  step(5, "schedule");
  if (f.schedule === undefined && !f.onCalendar) {
    a.onCalendar = answer(
      await p.confirm({ message: "Install the nightly systemd timer?", initialValue: true }),
    )
      ? answer(
          await p.text({
            message: "When (systemd OnCalendar)",
            initialValue: a.onCalendar ?? DEFAULT_ON_CALENDAR,
          }),
        )
      : undefined;
  }
  // Now, not after the commit: `systemd install` would refuse it with the config already written.
  if (a.onCalendar) await d.checkCalendar(a.onCalendar);

  step(6, "notifications");
  if (f.notifyUrl === undefined) {
    const url = answer(
      await p.text({
        message: "Notify on failure: a URL (ntfy://, mailto://, …), empty for none",
        defaultValue: "",
        placeholder: "none",
      }),
    );
    a.notifyUrl = url.trim() || undefined;
  }

  step(7, "what would be backed up (backup --dry-run)");
  p.note(await d.dryRun(a), "backup --dry-run");

  step(8, "write the config");
  let force = false;
  if (d.configExists) {
    force = answer(
      await p.confirm({
        message: `${a.configPath} exists. Replace it (the old one is kept as .bak-<time>)?`,
        initialValue: false,
      }),
    );
    if (!force) cancelled();
  } else if (
    !answer(
      await p.confirm({
        message: `Write ${a.configPath}${state === "new" ? " and create the repository" : ""}?`,
        initialValue: true,
      }),
    )
  )
    cancelled();
  return { answers: a, force };
}
