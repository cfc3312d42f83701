#!/usr/bin/env bash
# Proves the "bare machine" acceptance: in a freshly debootstrapped Debian 12 root, a fresh clone of this
# checkout runs `CI=true bash .ci/run` with no manual step, twice; the second run must reuse what the
# first provisioned. Prints how long each run took and its "N passed, N failed" line.
#
#   sudo bash scripts/bare-machine-check.sh [--clean] [--runs N] [--root DIR]
#
#   --clean     recreate the root (default: keep it, so its apt/bun/go/kopia caches survive)
#   --runs N    how many runs of .ci/run (default 2)
#   --root DIR  where the root lives (default /var/tmp/kd-bare)
#
# Nothing the project's scripts install is put into the root: it holds only debootstrap's minbase.
# What is shared with the host, and why:
#   - the docker socket: a chroot cannot run its own dockerd; test-env.sh must find this one answering;
#   - /tmp and /var/lib/docker at the same paths: tests bind host paths into containers, and volumes are
#     read straight from their host mountpoints, so both sides must see the same files;
#   - resolv.conf and the site's extra CA certificates (network settings of this site, not dependencies);
#   - proc, sys, dev.
# A policy-rc.d that refuses service starts keeps package installs from starting a second dockerd on the
# shared /var/lib/docker. The root is never removed while anything is mounted under it.
set -euo pipefail

ROOT=/var/tmp/kd-bare
runs=2
clean=0
here=$(cd "$(dirname "$0")/.." && pwd)

log() { printf 'bare-machine: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --clean) clean=1; shift ;;
    --runs) runs=${2:?--runs needs a number}; shift 2 ;;
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    -h | --help) sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
done
[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, mount, chroot)"
ROOT=$(realpath -m "$ROOT")
case "$ROOT" in / | /tmp | /tmp/* | /var | /var/lib/docker*) die "refusing root $ROOT" ;; esac
LOGS="$ROOT.logs"
mkdir -p "$LOGS"

# --- Mount bookkeeping: everything mounted is undone in reverse order on exit, whatever happens.
mounted=()
mounts_under_root() { awk -v r="$ROOT" '$5 == r || index($5, r "/") == 1 {print $5}' /proc/self/mountinfo; }
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -R "${mounted[$i]}" 2>/dev/null || umount -R -l "${mounted[$i]}" 2>/dev/null || log "could not unmount ${mounted[$i]}"
  done
  mounted=()
  # Anything left (e.g. from a killed earlier run) goes too, deepest first.
  mounts_under_root | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  if [ -n "$(mounts_under_root)" ]; then log "WARNING: still mounted under $ROOT:"; mounts_under_root >&2; fi
}
trap unmount_all EXIT
bind() { # bind SRC DST [rbind]: slave propagation, so unmounting here never reaches the host
  local flag=--bind
  [ "${3:-}" = rbind ] && flag=--rbind
  if [ -d "$1" ]; then mkdir -p "$2"; else mkdir -p "$(dirname "$2")"; [ -e "$2" ] || : >"$2"; fi
  mount "$flag" "$1" "$2"
  mounted+=("$2")
  mount --make-rslave "$2"
}

# --- The Debian mirror, read from the host's apt sources (deb822 .sources or one-line .list).
host_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'function flush() { if (types ~ /(^| )deb( |$)/ && suites ~ /(^| )bookworm( |$)/ && enabled != "no" && uri != "") { print uri; found = 1; exit } }
         /^[[:space:]]*$/ { flush(); types = suites = uri = enabled = ""; next }
         /^Types:/ { types = $0 } /^Suites:/ { suites = $0 } /^Enabled:/ { enabled = $2 } /^URIs:/ { uri = $2 }
         END { if (!found) flush() }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -E 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && $3 == "bookworm" {print $2}'
  done
}

# --- The root: debootstrap's minbase, nothing else.
if [ "$clean" -eq 1 ] && [ -d "$ROOT" ]; then
  [ -z "$(mounts_under_root)" ] || die "something is still mounted under $ROOT; not removing it"
  log "removing $ROOT (--clean)"
  rm -rf --one-file-system "$ROOT"
fi
if [ ! -x "$ROOT/bin/bash" ]; then
  command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  mirror=$(host_mirror | head -n1)
  [ -n "$mirror" ] || die "no bookworm 'deb' entry in /etc/apt/sources.list(.d)"
  log "debootstrap bookworm minbase from $mirror into $ROOT"
  t0=$(date +%s)
  debootstrap --variant=minbase bookworm "$ROOT" "$mirror" >"$LOGS/debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $LOGS/debootstrap.log"
  log "debootstrap took $(($(date +%s) - t0))s"
fi
printf '#!/bin/sh\n# bare-machine-check: the host docker daemon is used; never start services here.\nexit 101\n' \
  >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
mkdir -p "$ROOT/usr/local/share/ca-certificates"
for c in /usr/local/share/ca-certificates/*.crt; do [ -f "$c" ] && cp "$c" "$ROOT/usr/local/share/ca-certificates/"; done

[ -z "$(mounts_under_root)" ] || die "something is already mounted under $ROOT (another run?)"
mount -t proc proc "$ROOT/proc"; mounted+=("$ROOT/proc")
bind /sys "$ROOT/sys" rbind
bind /dev "$ROOT/dev" rbind
bind /tmp "$ROOT/tmp"
bind /var/lib/docker "$ROOT/var/lib/docker"
bind "$(realpath /var/run/docker.sock)" "$ROOT/run/docker.sock"
DOCKER_HOST="unix://$ROOT/run/docker.sock" docker info >/dev/null 2>&1 ||
  die "the docker socket bound into $ROOT does not answer"

# Site network settings the chroot inherits (they name paths that exist once ca-certificates is in).
site_env=()
for v in NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE GIT_SSL_CAINFO; do
  [ -n "${!v:-}" ] && site_env+=("$v=${!v}")
done

summary="$LOGS/summary.txt"
: >"$summary"
for run in $(seq 1 "$runs"); do
  # The clone lives under the shared /tmp, so it has the same path inside the root and on the host: tests
  # bind-mount files of the checkout (the compiled binary) into containers of the host's daemon.
  checkout=/tmp/kd-bare-checkout
  src="$ROOT$checkout"
  [ -z "$(awk -v r="$src" 'index($5, r) == 1' /proc/self/mountinfo)" ] || die "$src has mounts"
  rm -rf --one-file-system "$src"
  git clone --quiet "$here" "$src"
  log "run $run: CI=true bash .ci/run in a fresh clone ($(git -C "$src" rev-parse --short HEAD)); log $LOGS/run$run.log"
  t0=$(date +%s)
  set +e
  chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM=dumb CI=true "${site_env[@]}" \
    /bin/bash -c "cd $checkout && bash .ci/run" >"$LOGS/run$run.log" 2>&1
  rc=$?
  set -e
  secs=$(($(date +%s) - t0))
  result=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$LOGS/run$run.log" | tail -n1)
  line="run $run: exit $rc in ${secs}s ($((secs / 60))m$((secs % 60))s): ${result:-no result line}"
  log "$line"
  echo "$line" >>"$summary"
done
cat "$summary"
