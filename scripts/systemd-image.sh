#!/usr/bin/env bash
# Builds a local docker image that boots systemd (Debian bookworm), with no registry: debootstrap
# from the mirror the host's apt already uses, then `docker import`. The systemd-recover integration
# test runs it privileged with /sbin/init to prove that ExecStopPost=recover heals a SIGKILL'd run.
# Idempotent: an existing image with the tag is kept; a finished root dir is reused.
# Needs root (debootstrap, chroot). Usage: scripts/systemd-image.sh [tag]
set -euo pipefail

TAG=${1:-kopi-docka-test/systemd-bookworm:1}
WORK=${KD_SYSIMG_DIR:-/var/tmp/kd-sysimg}
ROOT=$WORK/rootfs
SUITE=bookworm
PACKAGES=systemd,systemd-sysv,dbus,ca-certificates,procps

log() { printf 'systemd-image: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "$TAG exists"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap needs it)"

# Two test runs may ask at once: one builds, the other waits and then finds the image.
mkdir -p "$WORK"
exec 9>"$WORK/.lock"
flock 9
if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "$TAG exists"
  exit 0
fi

# The first Debian mirror the host's apt is configured with (deb822 or one-line format).
host_mirror() {
  local uri
  uri=$(grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk '{print $2}' | grep -v -e security -e '^$' | head -n1 || true)
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
  fi
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

if ! command -v debootstrap >/dev/null && [ ! -x /usr/sbin/debootstrap ]; then
  log "installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
PATH=$PATH:/usr/sbin:/sbin

# A half-finished debootstrap is thrown away; only a completed one (marker file) is reused.
if [ ! -f "$ROOT/.kd-complete" ]; then
  mirror=$(host_mirror)
  log "debootstrap $SUITE from $mirror into $ROOT (a few minutes)"
  rm -rf "$ROOT"
  mkdir -p "$ROOT"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" "$mirror" >&2
  # Units that only make sense on a real machine would slow the boot or fail inside a container.
  for unit in getty.target console-getty.service systemd-logind.service \
    systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service \
    systemd-remount-fs.service sys-kernel-config.mount sys-kernel-debug.mount; do
    ln -sf /dev/null "$ROOT/etc/systemd/system/$unit"
  done
  : >"$ROOT/etc/machine-id"
  rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
  touch "$ROOT/.kd-complete"
fi

log "importing $ROOT as $TAG"
tar --numeric-owner -C "$ROOT" --exclude=./.kd-complete -c . |
  docker import -c 'ENV container=docker' -c 'CMD ["/sbin/init"]' - "$TAG" >/dev/null
log "built $TAG"
