import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { isRecord } from "../guards.ts";
import { bindOf } from "./compose-bind.ts";
import type { LoadedRecipe } from "./recipe.ts";

/**
 * What `compose up` of a unit's compose files would take from this host: the host paths it mounts or
 * reads (bind sources, env files, build contexts, secret and config files, bind volume devices) as
 * the files write them, what it would pull in that kopi-docka never read (`include`, `extends.file`),
 * and the privileges beyond a plain container its services ask for. Read from the recipe (untrusted):
 * parsed, never interpolated; `safety.ts` judges each path as it judges a standalone container's.
 */
export interface ComposeHostUse {
  paths: HostPathUse[];
  /** Why the files cannot be judged whole: then `--start` is refused. */
  unchecked: string[];
  /** Elevated privileges, one line per service, for the plan's warnings. */
  elevated: string[];
}

export interface HostPathUse {
  /** `service app`, `secret db_pw`, `volume data`. */
  by: string;
  what: "mount" | "env file" | "build context" | "volume device";
  /** As written in the compose file. */
  source: string;
  /** A bind's service and path in the container: an override entry with both replaces it. */
  service?: string;
  target?: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (isRecord(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
const strs = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === "string");

/** The compose files `--start` hands to compose; one that is no regular file in the recipe is unchecked. */
export function readComposeHostUse(recipe: LoadedRecipe): ComposeHostUse {
  const texts: string[] = [];
  for (const f of recipe.unit.composeFiles) {
    if (!recipe.files.some((x) => x.stored === f.stored))
      return { paths: [], elevated: [], unchecked: [`${f.stored} is not a regular file in the recipe`] };
    texts.push(readFileSync(join(recipe.dir, f.stored), "utf8"));
  }
  return composeHostUse(texts);
}

/** Every document of every file (compose v2 reads all of a multi-document file). Pure. */
export function composeHostUse(texts: readonly string[]): ComposeHostUse {
  const use: ComposeHostUse = { paths: [], unchecked: [], elevated: [] };
  const volumeOpts = new Map<string, Obj>();
  for (const text of texts) {
    let parsed: unknown;
    try {
      parsed = Bun.YAML.parse(text);
    } catch {
      use.unchecked.push("a compose file does not parse");
      continue;
    }
    for (const doc of Array.isArray(parsed) ? parsed : [parsed]) {
      if (doc === null || doc === undefined) continue;
      if (!isRecord(doc)) use.unchecked.push("a compose file is not a mapping");
      else readDocument(doc, use, volumeOpts);
    }
  }
  // A local volume with `o: bind` keeps its data at `device`; later files add options key by key.
  for (const [name, o] of volumeOpts) {
    const opts = String(o.o ?? "");
    if (typeof o.device === "string" && (opts.split(",").includes("bind") || opts.includes("$")))
      use.paths.push({ by: `volume ${name}`, what: "volume device", source: o.device });
  }
  return use;
}

function readDocument(doc: Obj, use: ComposeHostUse, volumeOpts: Map<string, Obj>): void {
  if (list(doc.include).length)
    use.unchecked.push("`include:` pulls in compose files the recipe does not hold");
  for (const [name, raw] of Object.entries(obj(doc.services))) {
    const s = obj(raw);
    const by = `service ${name}`;
    for (const v of list(s.volumes)) {
      const b = bindOf(v);
      if (b) use.paths.push({ by, what: "mount", service: name, ...b });
    }
    for (const e of list(s.env_file)) {
      const path = typeof e === "string" ? e : obj(e).path;
      if (typeof path === "string") use.paths.push({ by, what: "env file", source: path });
    }
    for (const context of buildContexts(s.build))
      use.paths.push({ by, what: "build context", source: context });
    if (typeof obj(s.extends).file === "string")
      use.unchecked.push(`${by}: \`extends.file\` pulls in a file the recipe does not hold`);
    const elevated = privileges(s);
    if (elevated.length) use.elevated.push(`${by}: ${elevated.join("; ")}, as its compose file says`);
  }
  for (const kind of ["secrets", "configs"] as const)
    for (const [name, raw] of Object.entries(obj(doc[kind])))
      if (typeof obj(raw).file === "string")
        use.paths.push({ by: `${kind.slice(0, -1)} ${name}`, what: "mount", source: String(obj(raw).file) });
  for (const [name, raw] of Object.entries(obj(doc.volumes))) {
    const opts = obj(obj(raw).driver_opts);
    if (Object.keys(opts).length) volumeOpts.set(name, { ...volumeOpts.get(name), ...opts });
  }
}

/** A build context compose fetches (a URL, a git remote, an image, another service): no host path. */
const REMOTE_CONTEXT = /^(?:(?:https?|git|ssh|docker-image):\/\/|git@|github\.com\/|service:)/;

/** Local build contexts (the main one, default `.`, and `additional_contexts`); remote ones are none. */
function buildContexts(build: unknown): string[] {
  if (build === undefined || build === null) return [];
  const b = typeof build === "string" ? { context: build } : obj(build);
  const extra = Array.isArray(b.additional_contexts)
    ? strs(b.additional_contexts).map((e) => e.slice(e.indexOf("=") + 1))
    : strs(Object.values(obj(b.additional_contexts)));
  return [typeof b.context === "string" ? b.context : ".", ...extra]
    .filter((c) => !REMOTE_CONTEXT.test(c))
    .map((c) => c.replace(/^oci-layout:\/\//, ""));
}

/** What a service asks for beyond a plain container (the standalone `docker run` path warns alike). */
function privileges(s: Obj): string[] {
  const out: string[] = [];
  if (/^(true|yes|on|y)$/i.test(String(s.privileged))) out.push("runs privileged");
  if (strs(s.cap_add).length) out.push(`gets capabilities ${strs(s.cap_add).join(", ")}`);
  const devices = list(s.devices).map((d) => (typeof d === "string" ? d : String(obj(d).source ?? "")));
  if (devices.length) out.push(`gets host devices ${devices.join(", ")}`);
  for (const key of ["pid", "network_mode", "ipc", "userns_mode", "uts", "cgroup"])
    if (s[key] === "host") out.push(`shares the host's namespace (${key}: host)`);
  if (strs(s.security_opt).length) out.push(`security options ${strs(s.security_opt).join(", ")}`);
  return out;
}

/** A service's mount by its path in the container, as compose merges them (`/x/` is `/x`). */
export function mountKey(service: string, target: string): string {
  return `${service}\0${posix.normalize(target).replace(/(.)\/+$/, "$1")}`;
}

/**
 * The binds whose source this plan cannot resolve (a variable, `~`), by `mountKey`: in place, the
 * override pins each to the source the backup recorded, so compose interpolates nothing there.
 */
export function unresolvedBinds(use: ComposeHostUse | undefined, projectDir: string): Set<string> {
  const out = new Set<string>();
  for (const p of use?.paths ?? [])
    if (p.what === "mount" && p.service && p.target && "unresolved" in hostPathOf(p.source, projectDir))
      out.add(mountKey(p.service, p.target));
  return out;
}

/**
 * Where a source written in a compose file points on this host, resolved as compose does (relative
 * to the project directory), or why it cannot be told: a variable is interpolated from compose's
 * environment and `.env`, and `~` is the home of whoever runs compose, neither of which this plan sees.
 */
export function hostPathOf(source: string, projectDir: string): { path: string } | { unresolved: string } {
  if (source.includes("$")) return { unresolved: "a variable, set from compose's environment" };
  if (source.startsWith("~")) return { unresolved: "under ~, the home of whoever runs compose" };
  return { path: source.startsWith("/") ? source : posix.resolve(projectDir, source) };
}
