import type { ArgsDef, CommandDef } from "citty";
import { UsageError } from "./core/errors.ts";

type AnyCommand = CommandDef<ArgsDef>;

async function resolve<T>(v: T | Promise<T> | (() => T | Promise<T>)): Promise<T> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

const HELP = new Set(["--help", "-h"]);

/**
 * Follows the sub-command names in argv; returns the chain root → leaf, the leaf's own argv, and
 * whether help was asked for before the command name (`kopi-docka --help backup`).
 * citty hands a sub-command only the words after its name, so an option written before it
 * (`kopi-docka --dry-run backup`) would be dropped and the real thing run: that is a usage error.
 */
export async function resolveChain(root: AnyCommand, argv: readonly string[]) {
  const chain: AnyCommand[] = [root];
  let leaf = root;
  let rest = [...argv];
  let helpBefore = false;
  const names: string[] = [];
  for (;;) {
    const subs = leaf.subCommands ? await resolve(leaf.subCommands) : undefined;
    const i = rest.findIndex((a) => !a.startsWith("-"));
    const name = i >= 0 ? rest[i] : undefined;
    const sub = subs && name !== undefined && Object.hasOwn(subs, name) ? subs[name] : undefined;
    if (!sub || name === undefined) return { chain, leaf, leafArgv: rest, helpBefore };
    const before = rest.slice(0, i).filter((a) => !HELP.has(a));
    if (before.length > 0)
      throw new UsageError(
        `${before.join(" ")} comes before the command ${JSON.stringify(name)}, where it would be ignored`,
        `put options after the command's name: kopi-docka ${[...names, name, ...before].join(" ")} …`,
      );
    names.push(name);
    helpBefore ||= rest.slice(0, i).some((a) => HELP.has(a));
    leaf = await resolve(sub);
    chain.push(leaf);
    rest = rest.slice(i + 1);
  }
}

/**
 * Every value of a flag that may be repeated: `--unit a --unit b`, `--unit=c`, `--unit d,e` give
 * a, b, c, d, e (citty keeps only the last). `name` without the dashes. An empty item (`--unit a,`)
 * is a usage error: an empty list would mean "all", a wider action than anyone asked for.
 */
export function repeatedFlag(rawArgs: readonly string[], name: string): string[] {
  const flag = `--${name}`;
  const items = rawArgs
    .flatMap((a, i) =>
      a === flag ? [rawArgs[i + 1] ?? ""] : a.startsWith(`${flag}=`) ? [a.slice(flag.length + 1)] : [],
    )
    .flatMap((v) => v.split(",").map((x) => x.trim()));
  if (items.some((x) => x === "")) {
    throw new UsageError(
      `${flag} has an empty name`,
      `name each ${name}: ${flag} a,b or ${flag} a ${flag} b`,
    );
  }
  return items;
}

const repeatableDefs = new WeakSet<object>();

/**
 * Marks a string flag that may be given more than once (read with `repeatedFlag`). Every other
 * value flag given twice is a usage error: citty keeps the last, and `restore --unit a --unit b`
 * would silently restore b.
 */
export function repeatable<T extends { type: "string" }>(def: T): T {
  repeatableDefs.add(def);
  return def;
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * citty ignores flags it does not know; a backup tool must not (a typo like `--dryrun` would run
 * the real thing). Rejects unknown flags and stray positional words, naming the valid flags.
 */
export async function rejectUnknownArgs(
  leaf: AnyCommand,
  argv: readonly string[],
  path: string,
): Promise<void> {
  const defs: ArgsDef = leaf.args ? await resolve(leaf.args) : {};
  const known = new Map<string, string>();
  const onceOnly = new Map<string, string>(); // every spelling of a single-value flag → its key
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") continue;
    const names = [name, kebab(name), ...[("alias" in def ? def.alias : undefined) ?? []].flat()];
    for (const n of names) known.set(n, def.type ?? "boolean");
    if (def.type === "boolean") for (const n of names) known.set(`no-${n}`, "boolean");
    if ((def.type === "string" || def.type === "enum") && !repeatableDefs.has(def))
      for (const n of names) onceOnly.set(n, name);
  }
  const given = new Set<string>();
  const positionals = Object.values(defs).filter((d) => d.type === "positional").length;
  const hasSubCommands = Boolean(leaf.subCommands);
  let seenPositionals = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === undefined || a === "--") break;
    if (a.startsWith("-") && a !== "-") {
      const name = a.replace(/^--?/, "").replace(/=.*/s, "");
      const type = known.get(name);
      if (!type) {
        const valid = [
          ...new Set(
            Object.keys(defs)
              .filter((k) => defs[k]?.type !== "positional")
              .map(kebab),
          ),
        ];
        throw new UsageError(
          `unknown option ${a.split("=")[0]} for \`${path}\``,
          valid.length
            ? `valid options: ${valid.map((v) => `--${v}`).join(", ")}`
            : `\`${path}\` takes no options`,
        );
      }
      if (type === "string" || type === "enum") {
        const eq = a.indexOf("=");
        const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        rejectEmptyValue(a.slice(0, eq >= 0 ? eq : undefined), value, path);
        rejectRepeat(onceOnly.get(name), given, path);
      }
      continue;
    }
    if (++seenPositionals > positionals) {
      throw new UsageError(
        hasSubCommands
          ? `unknown command \`${a}\` for \`${path}\``
          : `unexpected argument \`${a}\` for \`${path}\``,
        `see \`${path} --help\``,
      );
    }
  }
}

/** A single-value flag given twice: citty would keep the last and act on it without a word. */
function rejectRepeat(key: string | undefined, given: Set<string>, path: string): void {
  if (key === undefined) return;
  if (given.has(key)) {
    const flag = `--${kebab(key)}`;
    throw new UsageError(`${flag} given twice; \`${path}\` takes one ${flag}`, `give ${flag} once`);
  }
  given.add(key);
}

/**
 * An empty value would widen the action (`--unit ''` is every unit, `--config ''` the default
 * file), and a bare flag followed by another flag would swallow it: both are usage errors.
 */
function rejectEmptyValue(flag: string, value: string | undefined, path: string): void {
  if (value === undefined || value.trim() === "" || (value.startsWith("--") && value.length > 2)) {
    throw new UsageError(
      `${flag} needs a value for \`${path}\``,
      value === undefined || value.startsWith("--")
        ? `write ${flag} <value>, or leave ${flag} out`
        : `an empty value is never "all": leave ${flag} out to mean the default`,
    );
  }
}
