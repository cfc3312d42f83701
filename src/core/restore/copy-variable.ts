import { STORED_ENV } from "./copy-naming.ts";
import type { CurrentState, FileStep } from "./types.ts";

/**
 * A copy's compose files may name things after `${COMPOSE_PROJECT_NAME}` (`container_name:
 * ${COMPOSE_PROJECT_NAME}-web`). The copy's `.env` is rewritten to set it to the copy's name
 * (copy-naming.ts), so compose makes `COPY-web`, not the original's name: that name is the one to
 * judge. Pure; the compose file is untrusted: its value is parsed here, never given to a shell.
 */

/**
 * What `${COMPOSE_PROJECT_NAME}` becomes when restore's `compose up` starts the copy `as`: its name,
 * when the copy's `.env` sets it to that (copy-naming.ts) and this restore writes that `.env` from
 * the recipe (not left to a bind, nor to an earlier restore), and kopi-docka's own environment sets
 * no other (compose takes the environment's over the `.env`'s). Undefined: not known.
 */
export function copyProjectVariable(
  state: CurrentState,
  files: readonly FileStep[],
  as: string,
): string | undefined {
  if (state.copyNaming?.envName !== as) return undefined;
  if (!files.some((f) => f.stored === STORED_ENV)) return undefined;
  const inherited = state.inheritedProjectName;
  return inherited === undefined || inherited === as ? as : undefined;
}

/**
 * `$NAME`, `${NAME}`, or `${NAME` with `:-`, `-`, `:?` or `?` and a plain text `}`: compose v1 and v2
 * read each alike, and the variable set and not empty they all give its value. A default holding
 * `$`, `{` or `}` is left unmatched (v1 and v2 would read it apart).
 */
const USE = /\$(?:\{COMPOSE_PROJECT_NAME(?::?[-?][^${}]*)?\}|COMPOSE_PROJECT_NAME(?![A-Za-z0-9_]))/g;

/**
 * `template` (a compose value) with `value` put for every use of `COMPOSE_PROJECT_NAME`; undefined
 * when it uses anything else that compose would interpolate: another variable, `$$`, a form not read
 * above. `value` is a project name (no `$`), so a `$` left over is one of those.
 */
export function withProjectName(template: string, value: string): string | undefined {
  const out = template.replace(USE, () => value);
  return out.includes("$") ? undefined : out;
}
