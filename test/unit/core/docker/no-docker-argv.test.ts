import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

// Every docker call goes through the client in src/core/docker/: nothing else builds a docker argv.

const SRC = join(import.meta.dir, "..", "..", "..", "..", "src");
const CLIENT = join(SRC, "core", "docker");

/** How a docker argv shows itself in source: the binary first, a raw `docker.run([...])`, or a subcommand list. */
const DOCKER_ARGV = [
  /\[\s*"docker(-compose)?"\s*[,\]]/,
  /"docker"\s*,\s*"/,
  /\bdocker\.run\(\s*\[/,
  // A subcommand followed by a flag, a variable or a spread: `["stop", "-t", …]`, `["start", id]`.
  /\[\s*"(inspect|ps|stop|start|restart|rm|kill|run|create|exec|version|info|pull)"\s*,\s*("-|[A-Za-z_$]|\.\.\.)/,
  /\[\s*"(volume|network|image|container)"\s*,\s*"(create|inspect|rm|ls|connect|disconnect|prune)"/,
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return path === CLIENT ? [] : sources(path);
    return e.name.endsWith(".ts") ? [path] : [];
  });
}

function offenders(text: string): string[] {
  return text.split("\n").filter((line) => DOCKER_ARGV.some((re) => re.test(line)));
}

test("the patterns catch the docker argv they are meant to catch", () => {
  for (const line of [
    'await runner.run(["docker", "compose", "version"]);',
    'const argv = ["docker", "run", "-d", "--name", name];',
    'await docker.run(["network", "rm", step.name], { timeoutMs: 60_000 });',
    'const r = await d.docker.run(["inspect", "--format", "{{.Id}}", s.id]);',
    'return ["docker-compose"];',
    'const argv = ["volume", "create", "--driver", v.driver];',
    'await docker.run(["start", entry.containerId], {',
    'exec(["stop", "-t", String(t), ref]);',
  ])
    expect(offenders(line)).toEqual([line]);
  for (const line of [
    'type: z.enum(["compose", "standalone"]),',
    'const MOUNT_TYPES = ["volume", "bind", "tmpfs"] as const;',
    ': ["stop", "running: stopped for a consistent copy"];',
  ])
    expect(offenders(line)).toEqual([]);
});

test("no docker argv in src/ outside src/core/docker/", () => {
  const files = sources(SRC);
  expect(files.length).toBeGreaterThan(50);
  const found = files.flatMap((f) =>
    offenders(readFileSync(f, "utf8")).map((line) => `${relative(SRC, f)}: ${line.trim()}`),
  );
  expect(found).toEqual([]);
});
