import type { CommandDef } from "citty";
import config from "./config.ts";
import doctor from "./doctor.ts";
import list from "./list.ts";
import version from "./version.ts";

/** Every top-level command. A static map: the compiled binary bundles them all anyway. */
// biome-ignore lint/suspicious/noExplicitAny: each command has its own args type; citty stores them untyped
export const commands: Record<string, CommandDef<any>> = { version, doctor, config, list };
