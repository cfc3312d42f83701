import { shellQuote } from "../format.ts";
import type { BundleManifest } from "./model.ts";
import { configFlag } from "./readme.ts";

const q = shellQuote;

/**
 * awk: exit 0 only when every line of secrets/env is part of a `NAME='…'` assignment (as `shellQuote`
 * writes a value, `'\''` for a quote inside it, lines inside the quotes) of a name in ` names `. q is
 * the quote (octal: the program itself is one quoted shell word).
 */
const ENV_CHECK = [
  'BEGIN { q = "\\047" }',
  "{",
  "  s = $0",
  "  if (!inq) {",
  "    if (!match(s, /^[A-Za-z_][A-Za-z0-9_]*=/)) { bad = 1; exit }",
  '    if (!index(names, " " substr(s, 1, RLENGTH - 1) " ")) { bad = 1; exit }',
  "    s = substr(s, RLENGTH + 1)",
  "    if (substr(s, 1, 1) != q) { bad = 1; exit }",
  "    s = substr(s, 2)",
  "  }",
  "  inq = 1",
  "  while ((i = index(s, q)) > 0) {",
  '    if (substr(s, i, 4) == q "\\\\" q q) s = substr(s, i + 4)',
  '    else if (i == length(s)) { inq = 0; s = "" }',
  "    else { bad = 1; exit }",
  "  }",
  "}",
  "END { exit bad || inq }",
].join("\n");

/**
 * recover.sh: run as root from the unpacked bundle on the new host. Checks the unpacked files against
 * SHA256SUMS, puts the config, the password and every carried file back where they were (0600; an
 * existing different file only with --force, which keeps a .bak copy), connects by listing the old
 * host's restore points, and with --restore-all restores and starts every unit (each one tried; the
 * failed ones listed at the end, exit 1). POSIX sh, coreutils and awk.
 */
export function recoverScript(m: BundleManifest): string {
  const put = [
    `put config.toml ${q(m.config_path)}`,
    `put secrets/repository.password ${q(m.password_file)}`,
    ...m.files.map((f) => `put ${q(f.stored)} ${q(f.path)}`),
  ];
  const units = m.units.map((u) => q(u.unit)).join(" ");
  // Names are /^[A-Za-z_][A-Za-z0-9_]*$/ (manifest schema): safe inside the quoted word.
  const names = m.env.map((e) => e.variable);
  const flag = configFlag(m.config_path);
  return `#!/bin/sh
# kopi-docka disaster recovery for host ${m.host} (bundle of ${m.created}, kopi-docka ${m.kopi_docka_version}).
# Run as root from the unpacked bundle:  sh recover.sh [--force] [--restore-all]
set -eu
cd "$(dirname "$0")"
umask 077
force=0
all=0
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    --restore-all) all=1 ;;
    *) echo "usage: sh recover.sh [--force] [--restore-all]" >&2; exit 2 ;;
  esac
done
# The kopi-docka to run: KOPI_DOCKA names it when PATH finds another first. A host migrated from the
# Python Kopi-Docka may still have that one on PATH, which knows none of the commands below.
kd=\${KOPI_DOCKA:-kopi-docka}
command -v "$kd" >/dev/null 2>&1 || { echo "$kd is not installed: see README.txt, step 1 (or name it: KOPI_DOCKA=/path/to/kopi-docka sh recover.sh)" >&2; exit 1; }
"$kd" --version 2>/dev/null | grep -Eq '^[0-9]+[.][0-9]+[.][0-9]+' ||
  { echo "$(command -v "$kd") is not this kopi-docka (an older Python Kopi-Docka?): install it (README.txt, step 1), or name it: KOPI_DOCKA=/path/to/kopi-docka sh recover.sh" >&2; exit 1; }
sha256sum -c --quiet SHA256SUMS || { echo "the unpacked files do not match SHA256SUMS: unpack the bundle again" >&2; exit 1; }
# secrets/env is sourced below only when it is nothing but NAME='value' lines of the names listed
# here: then sourcing it runs nothing and sets these alone.
if [ -f secrets/env ]; then
  awk -v names=${q(` ${names.join(" ")} `)} '${ENV_CHECK}' secrets/env ||
    { echo "secrets/env holds more than the quoted values of${names.length ? ` ${names.join(" ")}` : " nothing"}: not read, nothing changed" >&2; exit 1; }
fi

# put <file in the bundle> <where it was>: 0600, atomically; a different existing file only with --force.
put() {
  if [ -e "$2" ] && ! cmp -s "$1" "$2"; then
    if [ "$force" = 1 ]; then
      cp -p "$2" "$2.bak-$(date +%Y%m%dT%H%M%S)"
    else
      echo "$2 exists and differs from the bundle's copy: rerun with --force to replace it (a .bak copy is kept)" >&2
      exit 1
    fi
  fi
  mkdir -p "$(dirname "$2")"
  cp "$1" "$2.dr-tmp"
  chmod 600 "$2.dr-tmp"
  mv -f "$2.dr-tmp" "$2"
  echo "restored $2"
}

${put.join("\n")}
# The files above are secrets (077); what the restores below create is not: a project directory
# and its parents come back as readable as a fresh one would be.
umask 022

# Secrets the config names by environment variable: exported for the commands below only.
# The services need them too: README.txt, step 4 (an EnvironmentFile=).
if [ -f secrets/env ]; then set -a; . ./secrets/env; set +a; fi

cfg=${q(m.config_path)}
"$kd" snapshots --config "$cfg" --host ${q(m.host)}

if [ "$all" = 1 ]; then
  # One unit failing must not leave the others unrestored: each is tried, the failures listed at the end.
  failed=""
  for unit in ${units}; do
    "$kd" restore --config "$cfg" --from-host ${q(m.host)} --unit "$unit" --latest --start --yes ||
      { echo "restore of $unit failed (exit $?)" >&2; failed="$failed $unit"; }
  done
  if [ -n "$failed" ]; then
    echo >&2
    echo "Not restored:$failed" >&2
    echo "Fix the cause shown above, then restore each with:" >&2
    for unit in $failed; do
      echo "  kopi-docka restore --config $cfg --from-host ${m.host} --unit $unit --latest --start --yes" >&2
    done
    exit 1
  fi
else
  echo
  echo "Config and secrets are in place. Restore each unit with:"
  for unit in ${units}; do
    echo "  kopi-docka restore --config $cfg --from-host ${m.host} --unit $unit --latest --start --yes"
  done
fi
echo
echo "Then check the units and schedule backups again (README.txt, step 4):"
echo ${q(`  kopi-docka list${flag}; kopi-docka systemd install${flag}`)}
${
  names.length
    ? `echo "The nightly services need ${names.join(" ")} too, before systemd install: README.txt, step 4."
`
    : ""
}`;
}
