#!/usr/bin/env bash
# Provisions everything the test suite needs on a bare Debian 12 machine, and nothing twice:
# Debian's docker.io and docker-compose (v1), busybox-static for the test image, Bun from npm,
# kopia built from its pinned Go module, a running dockerd, the local test image, and node_modules.
# Idempotent: a second run only checks. Needs root (apt, dockerd).
set -euo pipefail

BUN_VERSION=1.4.5
KOPIA_VERSION=0.23.1
TEST_IMAGE=kopi-docka-test/busybox:1
TOOLS_CACHE=${KOPI_DOCKA_TOOLS_CACHE:-/var/cache/kopi-docka-dev}
here=$(cd "$(dirname "$0")/.." && pwd)

log() { printf 'test-env: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and starts dockerd)"

apt_updated=
apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# systemd for systemd-analyze (the e2e verifies the units with it under CI); minimal images lack it.
apt_install docker.io docker-compose busybox-static ca-certificates git tmux iproute2 util-linux procps systemd

# --- Bun, pinned, from the npm registry.
if ! command -v bun >/dev/null || [ "$(bun --version)" != "$BUN_VERSION" ]; then
  command -v npm >/dev/null || apt_install npm
  log "installing bun $BUN_VERSION"
  npm install -g --allow-scripts=bun "bun@$BUN_VERSION" >/dev/null 2>&1 || die "npm could not install bun@$BUN_VERSION (try it by hand to see why)"
fi

# --- kopia, pinned, built from its Go module and cached by version (the installer's own routine).
KOPI_DOCKA_TOOLS_CACHE=$TOOLS_CACHE sh "$here/install.sh" --kopia-only
kopia --version | grep -q "^v$KOPIA_VERSION" || die "kopia on PATH is not v$KOPIA_VERSION"

# --- A docker daemon: left alone when one answers, started in the background otherwise.
if ! docker info >/dev/null 2>&1; then
  if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then
    log "started docker.service"
  else
    log "starting dockerd in the background (log: /var/log/kopi-docka-test-dockerd.log)"
    # In a session of its own: ending the job that ran this script (its process group) must not end
    # the daemon every later test and every other job on this machine shares.
    setsid -f dockerd >>/var/log/kopi-docka-test-dockerd.log 2>&1 </dev/null
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || die "dockerd did not come up; see /var/log/kopi-docka-test-dockerd.log"
fi

# --- The test image, built locally from Debian's busybox-static: no registry is ever needed.
if ! docker image inspect "$TEST_IMAGE" >/dev/null 2>&1; then
  log "building $TEST_IMAGE"
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/data"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\napp:x:1000:1000:app:/:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\n' >"$rootfs/etc/group"
  tar -C "$rootfs" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$TEST_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi

# --- Servers and tools single features test against (SFTP, S3, SMTP, …): one file each in
# scripts/test-env.d/, sourced here so they share apt_install, log, die and TOOLS_CACHE. Each is
# idempotent and caches what it builds under $TOOLS_CACHE.
for part in "$here"/scripts/test-env.d/*.sh; do
  [ -e "$part" ] || continue
  # shellcheck source=/dev/null
  . "$part"
done

# --- JavaScript dependencies, exactly as locked.
(cd "$here" && bun install --frozen-lockfile >/dev/null)
log "ready: bun $(bun --version), $(kopia --version | cut -d' ' -f1), docker $(docker version --format '{{.Server.Version}}')"
