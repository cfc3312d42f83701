/**
 * Which schedule `systemd install` writes. Each timer value comes from the first source that has one:
 * the flag, the config's [schedule] table, the timer installed now (a re-install must not silently
 * reset a schedule chosen earlier), the built-in default. The result says where each value came from.
 */
import { readFileSync } from "node:fs";
import { findKeyLine } from "../config/key-line.ts";
import type { Config } from "../config/schema.ts";
import { ConfigError, UsageError } from "../core/errors.ts";
import type { Runner } from "../core/process/runner.ts";
import { type CalendarOrigin, checkOnCalendar } from "./schedule.ts";
import { DEFAULT_ON_CALENDAR, DEFAULT_RANDOMIZED_DELAY_SEC } from "./units.ts";

export type ValueFrom = "flag" | "config" | "installed timer" | "default";

export interface TimerValues {
  onCalendar?: string;
  randomizedDelaySec?: number;
}

/** The config's [schedule] values, with the file and lines to point at when one is rejected. */
export interface ConfigSchedule extends TimerValues {
  file?: string;
  onCalendarLine?: number;
}

export interface ResolvedSchedule {
  onCalendar: string;
  onCalendarFrom: ValueFrom;
  randomizedDelaySec: number;
  randomizedDelayFrom: ValueFrom;
}

function pick<T>(candidates: [ValueFrom, T | undefined][], fallback: T): { value: T; from: ValueFrom } {
  for (const [from, value] of candidates) if (value !== undefined) return { value, from };
  return { value: fallback, from: "default" };
}

export function resolveSchedule(
  flag: TimerValues,
  config: TimerValues,
  installed: TimerValues,
): ResolvedSchedule {
  const calendar = pick<string>(
    [
      ["flag", flag.onCalendar],
      ["config", config.onCalendar],
      ["installed timer", installed.onCalendar],
    ],
    DEFAULT_ON_CALENDAR,
  );
  const delay = pick<number>(
    [
      ["flag", flag.randomizedDelaySec],
      ["config", config.randomizedDelaySec],
      ["installed timer", installed.randomizedDelaySec],
    ],
    DEFAULT_RANDOMIZED_DELAY_SEC,
  );
  return {
    onCalendar: calendar.value,
    onCalendarFrom: calendar.from,
    randomizedDelaySec: delay.value,
    randomizedDelayFrom: delay.from,
  };
}

/** [schedule] of a loaded config; the file is re-read only to find the line of on_calendar. */
export function configSchedule(config: Config, file: string | undefined): ConfigSchedule {
  const { on_calendar, randomized_delay_sec } = config.schedule;
  let onCalendarLine: number | undefined;
  if (file && on_calendar !== undefined) {
    try {
      onCalendarLine = findKeyLine(readFileSync(file, "utf8"), ["schedule", "on_calendar"]);
    } catch {
      // The line is only a pointer for the error message; the value itself was already loaded.
    }
  }
  return { onCalendar: on_calendar, randomizedDelaySec: randomized_delay_sec, file, onCalendarLine };
}

/**
 * A config's `[schedule] on_calendar` checked as `systemd install` will check it (`config validate`):
 * a `ConfigError` naming its line, so a config called valid installs.
 */
export async function checkConfigCalendar(
  runner: Runner,
  config: Config,
  file: string | undefined,
  warn: (m: string) => void,
): Promise<void> {
  const schedule = configSchedule(config, file);
  if (schedule.onCalendar === undefined) return;
  await checkOnCalendar(runner, schedule.onCalendar, warn, calendarOrigin("config", schedule));
}

/** How a rejected OnCalendar expression is reported: as a bad flag, or as a bad config key + line. */
export function calendarOrigin(from: ValueFrom, config: ConfigSchedule): CalendarOrigin {
  const file = config.file;
  if (from === "config" && file) {
    return {
      label: "[schedule] on_calendar",
      error: (message, hint) =>
        new ConfigError(file, [{ key: "schedule.on_calendar", message, line: config.onCalendarLine }], hint),
    };
  }
  const label = from === "flag" ? "--on-calendar" : `OnCalendar (${from})`;
  return { label, error: (message, hint) => new UsageError(message, hint) };
}

/** Parses --randomized-delay-sec (citty hands over strings). */
export function parseDelayFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n > 604_800) {
    throw new UsageError(
      `--randomized-delay-sec "${value}" must be whole seconds from 0 to 604800`,
      "e.g. --randomized-delay-sec 900 spreads the start over 15 minutes",
    );
  }
  return n;
}
