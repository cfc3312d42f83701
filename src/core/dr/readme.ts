import { basename } from "node:path";
import { DEFAULT_CONFIG_PATH } from "../../config/load.ts";
import { shellWord } from "../format.ts";
import type { BundleManifest } from "./model.ts";

/**
 * ` --config PATH` when the old host's config was not at the default path, else "". Every command the
 * bundle gives a person passes it then: `systemd install` without it would write units that back up
 * under a default config, into a new empty repository, every night.
 */
export const configFlag = (configPath: string) =>
  configPath === DEFAULT_CONFIG_PATH ? "" : ` --config ${shellWord(configPath)}`;

/** Where step 4 of README.txt puts the variables for the services' EnvironmentFile=. */
export const SERVICE_ENV_FILE = "/etc/kopi-docka/env";

/**
 * How to open a bundle: printed at export and written beside it as `<bundle>.txt` (no secret in it).
 * `passphraseGiven`: it came from a file (`--passphrase-file`, `[dr] passphrase_file`), never shown.
 */
export function openingInstructions(
  bundleFile: string,
  m: Pick<BundleManifest, "host" | "created">,
  passphraseGiven = false,
): string {
  const name = basename(bundleFile);
  const passphrase = passphraseGiven
    ? "The passphrase is the one in the file given when it was made (--passphrase-file, or [dr]\npassphrase_file); kopi-docka keeps no other copy: keep one away from this host."
    : "The passphrase was shown once when it was made; it is not stored anywhere by kopi-docka.";
  return `kopi-docka disaster-recovery bundle for host ${m.host}, made ${m.created}.

${name} is an age-encrypted tar (https://age-encryption.org, passphrase mode). It holds the
kopi-docka config, the repository password and every credential needed to reach the backups.
${passphrase}

To open it with kopi-docka (the one binary is enough: no network, no config, no age):
  kopi-docka dr open ${name} --to ./kopi-docka-dr   # asks for the passphrase
  less kopi-docka-dr/README.txt
It checks every file against SHA256SUMS and writes nothing unless all match (files 0600).

Or on any Linux machine with age (kopi-docka not needed):
  apt-get install age          # Debian/Ubuntu; other systems: the "age" package
  umask 077
  age -d ${name} | tar -xf -   # asks for the passphrase; makes ./kopi-docka-dr/
  less kopi-docka-dr/README.txt

Both refuse a wrong passphrase or a damaged file, so what comes out is exactly what went in.
To prove the bundle works first: kopi-docka dr drill ${name}
`;
}

/** README.txt inside the bundle: a fresh host, step by step. */
export function bundleReadme(m: BundleManifest): string {
  const units = m.units.length
    ? m.units.map((u) => `  ${u.unit.padEnd(24)} ${u.timestamp}  (${u.point})`).join("\n")
    : "  (none: no complete restore point at export time)";
  const files = m.files.map((f) => `  ${f.path}   (${f.key})`).join("\n") || "  (none)";
  const env = m.env.map((e) => `  ${e.variable}   (${e.key})`).join("\n") || "  (none)";
  const cfg = shellWord(m.config_path);
  const flag = configFlag(m.config_path);
  return `KOPI-DOCKA DISASTER RECOVERY — host ${m.host}
Bundle made ${m.created} by kopi-docka ${m.kopi_docka_version}${m.kopia_version ? `, kopia ${m.kopia_version}` : ""}.

This directory (opened with \`kopi-docka dr open\`, or age and tar) is everything needed to bring
this host's Docker units back on a new machine:
  config.toml                   the kopi-docka config (it was at ${m.config_path})
  secrets/repository.password   the repository password (it was at ${m.password_file})
  secrets/files/                files the config points at (credentials, keys, CA bundles)
  secrets/env                   secrets the config reads from environment variables (if any)
  repository-status.json        kopia's view of the repository at export time (where it is)
  units.json                    every unit and its newest complete restore point
  runs/                         the latest backup run records
  recover.sh                    steps 2-4 below as a script
Keep it secret: anyone with these files can read and delete every backup.

Units and their newest complete restore point:
${units}

Files put back (same paths as on ${m.host}):
  ${m.config_path}
  ${m.password_file}
${files}

Environment variables the config reads:
${env}

ON A FRESH HOST (as root)
1. Install Docker, docker compose and kopi-docka with its kopia:
     curl -fsSLO <your copy of kopi-docka's install.sh>; sh install.sh --with-deps --no-timer${flag}
   (or copy the kopi-docka binary to /usr/local/bin and install kopia ${m.kopia_version ?? ""}).
   --no-timer: no nightly backup may run before the old config is back (it would create a new,
   empty repository on this disk); step 4 schedules them.
2. Put the config and the secrets back, and connect:
     sh recover.sh            # refuses to replace a different existing file; --force keeps a .bak
   (install.sh wrote a default config: recover.sh names it; rerun with --force to replace it.
   Another kopi-docka found first on PATH, e.g. an old Python Kopi-Docka, is refused: name this one
   with KOPI_DOCKA=/path/to/kopi-docka sh recover.sh.)
   It checks SHA256SUMS, copies each file above back to its path (0600), then runs
     kopi-docka snapshots --config ${cfg} --host ${m.host}
   which connects to the repository and lists what can be restored.
3. Restore each unit and start it:
     kopi-docka restore --config ${cfg} --from-host ${m.host} --unit <UNIT> --latest --start --yes
   (sh recover.sh --restore-all does this for every unit above; one that fails does not stop the
   others, and the failed ones are listed at the end, exit 1.)
   --from-host ${m.host}: the new machine may have another name; the restore points stay ${m.host}'s.
4. Check the units, then schedule backups again:
     kopi-docka list${flag}
${m.env.length ? serviceEnvStep() : ""}     kopi-docka systemd install${flag}
${
  flag
    ? `   --config: the units it writes read this config; without it they would back up under a default
   config into a new, empty repository.
`
    : ""
}   If the new host should continue ${m.host}'s history, set [repository] hostname = "${m.host}".
5. Delete this unpacked directory (shred it) once everything runs.
`;
}

/**
 * The services need the variables too (recover.sh exports them for its own commands only): the
 * values into one 0600 file, named by an EnvironmentFile= drop-in of each service, written before
 * `systemd install` so that the first timer run already has them.
 */
function serviceEnvStep(): string {
  return `   The config reads the variables above: the nightly services need them too (recover.sh set them
   for its own commands only), before the timer first runs:
     install -D -m 600 secrets/env ${SERVICE_ENV_FILE}
     for s in kopi-docka-backup kopi-docka-freshness; do
       mkdir -p /etc/systemd/system/$s.service.d
       printf '[Service]\\nEnvironmentFile=${SERVICE_ENV_FILE}\\n' > /etc/systemd/system/$s.service.d/env.conf
     done
   (the same as \`systemctl edit kopi-docka-backup.service\` and kopi-docka-freshness.service, adding
   [Service] EnvironmentFile=${SERVICE_ENV_FILE}), then:
`;
}
