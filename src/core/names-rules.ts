/**
 * Docker's and compose's own name rules. Names reach kopi-docka from labels an image can set and from
 * snapshot tags anyone with the repository password can write, and they become paths and argv: a
 * name that breaks these rules is never backed up under it and never restored.
 */

/** Containers, volumes, networks: moby's `RestrictedNameChars` (`[a-zA-Z0-9][a-zA-Z0-9_.-]`). */
export const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Compose project names (compose-go): lower-case letters, digits, `_` and `-`, alphanumeric first. */
export const COMPOSE_PROJECT = /^[a-z0-9][a-z0-9_-]*$/;

export type NameKind = "container" | "volume" | "network" | "unit" | "compose project";

/** Why `name` is not a valid `kind` name, or undefined when it is. */
export function nameProblem(kind: NameKind, name: string): string | undefined {
  const [rule, text] =
    kind === "compose project"
      ? [COMPOSE_PROJECT, "lower-case letters, digits, _ and -, starting with a letter or digit"]
      : [DOCKER_NAME, "letters, digits, _ . and -, starting with a letter or digit"];
  if (rule.test(name) && name.length <= 255) return undefined;
  return `invalid ${kind} name ${JSON.stringify(name)} (allowed: ${text})`;
}
