import { expect, test } from "bun:test";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import { createDocker } from "../../../../src/core/docker/docker.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { restoreDump } from "../../../../src/core/restore/dump-feed.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { renderRestorePlan } from "../../../../src/ui/restore-report.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { emptyState, manifest, request } from "./fixtures.ts";

// The plan a person confirms (and `--dry-run` prints) names the command each dump is fed through:
// compared here with the `docker exec` argv the feed hands the runner, for every preset.

const FILES = {
  postgres: "pg_dumpall.sql",
  mysql: "all-databases.sql",
  mariadb: "all-databases.sql",
  mongo: "mongodump.archive",
  sqlite: "sqlite.sql",
};
const running = [
  {
    id: "c1",
    name: "shop-db-1",
    running: true,
    volumes: [],
    binds: [],
    labels: { "com.docker.compose.project": "shop" },
  },
];

/** Shell words as a person would paste them (single quotes where a word needs them). */
const words = (argv: readonly string[]) =>
  argv.map((w) => (/^[A-Za-z0-9_./:@%+=,-]+$/.test(w) ? w : `'${w}'`)).join(" ");

/** The restore plan of a dump made by `preset`, rendered, and its one dump step. */
function planned(preset: keyof typeof FILES) {
  const points = groupRestorePoints([
    manifest({
      unit: "shop",
      backup_id: "r1-shop",
      run_id: "r1",
      backup_scope: "minimal",
      timestamp: "2026-01-01T10:00:00Z",
      type: "dump",
      dump_container: "shop-db-1",
      dump_file: FILES[preset],
      dump_preset: preset,
    }),
  ]);
  const unitConfig =
    preset === "sqlite"
      ? ConfigSchema.parse({ units: { shop: { dump: "sqlite", dump_path: "/data/app.db" } } }).units.shop
      : undefined;
  const plan = planRestore(
    request(),
    points,
    emptyState({ containers: running, ...(unitConfig ? { unitConfig } : {}) }),
  );
  expect(plan.refusals).toEqual([]);
  const [step] = plan.dumps ?? [];
  if (!step) throw new Error("no dump step");
  return { step, text: renderRestorePlan(plan).join("\n") };
}

/** The `docker …` argv the feed runs (less its per-run marker), with postgres missing or not. */
async function executed(step: ReturnType<typeof planned>["step"], postgresMissing = false) {
  const runner = new FakeRunner(
    [],
    [
      { argv: (a) => a[0] === "kopia" && a.includes("show"), stdout: "-- the dump\n" },
      { argv: (a) => a.includes("inspect"), stdout: "true\n" },
      { argv: (a) => a.includes("-tAc"), stdout: postgresMissing ? "0\n" : "1\n" },
      { argv: (a) => a[0] === "docker" && a[1] === "exec" },
    ],
  );
  const kopia = createKopia(runner, {
    configFile: "/x/c",
    cacheDir: "/c",
    logDir: "/l",
    password: () => "pw",
    hostname: "h",
    username: "u",
  });
  await restoreDump({ docker: createDocker(runner), kopia, log: silentLogger() }, step);
  const feeds = runner.calls.map((c) => c.argv).filter((a) => a[1] === "exec" && a.includes("-i"));
  expect(feeds).toHaveLength(1);
  const argv = [...(feeds[0] ?? [])];
  const marker = argv.findIndex((w) => w.startsWith("KOPI_DOCKA_EXEC="));
  expect(argv[marker - 1]).toBe("-e");
  argv.splice(marker - 1, 2);
  return argv;
}

test("the plan shows each preset's feed as the docker exec the feed runs", async () => {
  for (const preset of ["postgres", "mysql", "mariadb", "mongo", "sqlite"] as const) {
    const { step, text } = planned(preset);
    expect(text).toContain(`kopia show ${step.object} | ${words(await executed(step))} (`);
  }
  // postgres: its messages in English for the restore's error matching, on the command line shown too.
  expect(planned("postgres").text).toContain(
    "| docker exec -e 'PGOPTIONS=-c lc_messages=C' -i shop-db-1 psql -X -q -U postgres -d postgres (",
  );
});

test("postgres: the command a missing postgres database is fed through is shown as well", async () => {
  const { step, text } = planned("postgres");
  const missing = await executed(step, true);
  expect(missing).toContain("template1");
  expect(text).toContain(`if the database postgres is missing then: ${words(missing)}, which makes it first`);
});
