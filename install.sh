#!/bin/sh
# Installs kopi-docka: downloads a release binary (checked against its SHA256SUMS), or installs a copied
# one, or builds it from this checkout; then the systemd timer and a default config when none exists.
#
#   curl -fsSL <release-url>/install.sh | sh            (as root; or: sh install.sh [options])
#
#   --release-url URL  where releases live (default $DEFAULT_RELEASE_URL, or KOPI_DOCKA_RELEASE_URL)
#   --version V        install release V (default: this installer's own version, else latest)
#   --binary FILE      air-gapped: install this file (its SHA256SUMS beside it is checked)
#   --from-source      build from this checkout with Bun (the default when run from a checkout)
#   --full | --slim    the binary with kopia inside, or without (default: full unless a kopia >= 0.21 is on PATH)
#   --with-deps        make sure a Docker engine answers (Debian's docker.io, started and enabled)
#   --prefix DIR       where the binary goes (default /usr/local/bin; the systemd units expect it)
#   --config FILE      the config to create when missing (default /etc/kopi-docka/config.toml)
#   --unit-dir DIR     where the systemd units go (default /etc/systemd/system)
#   --no-enable        write the units but do not enable the timer
#   --no-timer         do not install the systemd timer at all
#   --dry-run          print every action, change nothing
#   --uninstall        remove the binary and the units; keeps config, password and repository
#   --kopia-only       only make sure the pinned kopia is installed (built from its Go module)
#   --kopia-cross ARCH build kopia for linux/ARCH (amd64|arm64) into the tools cache, print its directory
#   --go-only          make sure a go new enough to build kopia is there, print its path (dev tools)
#
# Safe to pipe: nothing is read from stdin, and nothing runs until the last line arrives. Idempotent.
set -eu

# The project's release location. A placeholder until releases are published: set
# KOPI_DOCKA_RELEASE_URL or pass --release-url.
DEFAULT_RELEASE_URL=https://releases.kopi-docka.invalid
# `build.ts --release` writes the release's version here, so a release's installer installs itself.
INSTALLER_VERSION=dev
KOPIA_VERSION=0.23.1
MIN_KOPIA=0.21.0
BUN_VERSION=1.4.5
# kopia v0.23.1's go.mod wants go >= 1.25.8 (Debian 12 ships 1.19, which cannot switch toolchains), so an
# older or missing go is replaced by this toolchain, fetched as the Go module golang.org/toolchain.
# Release builds of kopia always use it, so the same source gives the same bytes.
GO_MIN=1.25.8
GO_TOOLCHAIN=go1.25.11
GO_TOOLCHAIN_SHA256_amd64=dbf20d78a456c1a53fc52c06f1660851cb115be9b0807caf1abc4aedf8c77c1b
GO_TOOLCHAIN_SHA256_arm64=5248ce991643f99659acda091a3794deadd6b77df79d4e5173495c75654954e2
KOPIA_CACHE=${KOPI_DOCKA_TOOLS_CACHE:-/var/cache/kopi-docka-dev}

say() { printf 'install: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
usage() { sed -n '2,22s/^# \{0,1\}//p' "$0" 2>/dev/null || say "see the header of install.sh"; }

# Every change goes through act, so --dry-run shows it instead.
act() {
  if [ "$dry_run" -eq 1 ]; then say "would run: $*"; else "$@"; fi
}

detect_arch() {
  [ "$(uname -s)" = Linux ] || die "kopi-docka runs on Linux only (this is $(uname -s))"
  case "$(uname -m)" in
    x86_64|amd64) arch=x64 goarch=amd64 ;;
    aarch64|arm64) arch=arm64 goarch=arm64 ;;
    *) die "unsupported CPU $(uname -m) (x86_64 and aarch64 are built)" ;;
  esac
  # Bun's default x64 build needs AVX2; older or emulated CPUs get the baseline build.
  variant=$arch
  if [ "$arch" = x64 ] && ! grep -qw avx2 "${KOPI_DOCKA_CPUINFO:-/proc/cpuinfo}" 2>/dev/null; then
    variant=x64-baseline
  fi
}

version_at_least() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$1" ]; }

path_kopia_usable() {
  command -v kopia >/dev/null || return 1
  v=$(kopia --version 2>/dev/null | sed -n '1s/^v\{0,1\}\([0-9][0-9.]*\).*/\1/p')
  [ -n "$v" ] && version_at_least "$MIN_KOPIA" "$v"
}

apt_updated=0
apt_install() {
  missing=""
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  command -v apt-get >/dev/null || die "please install:$missing"
  if [ "$dry_run" -eq 1 ]; then say "would install:$missing"; return 0; fi
  [ "$apt_updated" -eq 1 ] || { apt-get update -qq </dev/null; apt_updated=1; }
  say "installing$missing"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing </dev/null >/dev/null
}

# --- kopia from its Go module ---------------------------------------------------------------------

go_new_enough() {
  command -v go >/dev/null || return 1
  have=$(go env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
  version_at_least "$GO_MIN" "$have"
}

use_pinned_go() {
  goroot="$KOPIA_CACHE/$GO_TOOLCHAIN"
  if [ ! -x "$goroot/bin/go" ]; then
    case "$arch" in x64) hostgo=amd64 sum=$GO_TOOLCHAIN_SHA256_amd64 ;; *) hostgo=arm64 sum=$GO_TOOLCHAIN_SHA256_arm64 ;; esac
    apt_install curl unzip ca-certificates
    mod="golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN.linux-$hostgo"
    proxy=${GOPROXY:-https://proxy.golang.org}
    proxy=${proxy%%[,|]*}
    case "$proxy" in http*) ;; *) proxy=https://proxy.golang.org ;; esac
    say "fetching go $GO_TOOLCHAIN (module $mod) to build kopia"
    mkdir -p "$KOPIA_CACHE"
    work=$(mktemp -d "$KOPIA_CACHE/go-fetch.XXXXXX")
    curl -fsSL -o "$work/go.zip" "$proxy/golang.org/toolchain/@v/v0.0.1-$GO_TOOLCHAIN.linux-$hostgo.zip" ||
      die "could not download $mod from $proxy"
    echo "$sum  $work/go.zip" | sha256sum -c --quiet >/dev/null 2>&1 || die "checksum mismatch for $mod"
    unzip -q "$work/go.zip" -d "$work" && mv "$work/$mod" "$goroot" || die "could not unpack $mod"
    rm -rf "$work"
  fi
  PATH="$goroot/bin:$PATH"
  export GOTOOLCHAIN=local
}

# Builds github.com/kopia/kopia@v$KOPIA_VERSION from a throwaway module (go install's version-list
# check is refused by some proxies). $1: output file; the rest: extra env for `go build`.
go_build_kopia() {
  out=$1; shift
  build=$(mktemp -d)
  printf 'module kopi-docka/kopia-build\n\ngo 1.25\n\nrequire github.com/kopia/kopia v%s\n' "$KOPIA_VERSION" >"$build/go.mod"
  (cd "$build" && env "$@" GOFLAGS=-mod=mod go build -trimpath -buildvcs=false -ldflags="-s -w -buildid=" \
    -o "$out" github.com/kopia/kopia) || die "kopia build failed"
  licence="$(cd "$build" && go env GOMODCACHE)/github.com/kopia/kopia@v$KOPIA_VERSION/LICENSE"
  rm -rf "$build"
}

install_kopia() {
  if path_kopia_usable && kopia --version 2>/dev/null | grep -q "^v\{0,1\}$KOPIA_VERSION"; then return 0; fi
  bin="$KOPIA_CACHE/kopia-v$KOPIA_VERSION/kopia"
  if [ ! -x "$bin" ]; then
    if [ "$dry_run" -eq 1 ]; then say "would build kopia v$KOPIA_VERSION into $bin"; return 0; fi
    go_new_enough || use_pinned_go
    mkdir -p "$(dirname "$bin")"
    say "building kopia v$KOPIA_VERSION from its Go module (a few minutes, once)"
    go_build_kopia "$bin" CGO_ENABLED=0
  fi
  "$bin" --version | grep -q "^v$KOPIA_VERSION" || die "$bin is not kopia v$KOPIA_VERSION"
  act mkdir -p "$PREFIX"
  act ln -sf "$bin" "$PREFIX/kopia"
  say "kopia v$KOPIA_VERSION at $PREFIX/kopia"
}

# A static kopia for linux/$1, built reproducibly (pinned go, CGO off, -trimpath, no build id) and
# cached by version, toolchain and arch; prints the directory holding `kopia` and its LICENSE.
kopia_cross() {
  case "$1" in amd64|arm64) ;; *) die "--kopia-cross takes amd64 or arm64, not $1" ;; esac
  dir="$KOPIA_CACHE/kopia-cross/v$KOPIA_VERSION-$GO_TOOLCHAIN-linux-$1"
  if [ ! -x "$dir/kopia" ]; then
    use_pinned_go
    mkdir -p "$KOPIA_CACHE/kopia-cross"
    tmp=$(mktemp -d "$dir.tmp.XXXXXX")
    say "cross-building kopia v$KOPIA_VERSION for linux/$1 (a few minutes, cached afterwards)"
    go_build_kopia "$tmp/kopia" CGO_ENABLED=0 GOOS=linux GOARCH="$1"
    cp "$licence" "$tmp/LICENSE"
    chmod 0644 "$tmp/LICENSE"
    rm -rf "$dir" && mv "$tmp" "$dir"
  fi
  printf '%s\n' "$dir"
}

# --- Docker --------------------------------------------------------------------------------------

ensure_docker_engine() {
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then return 0; fi
  apt_install docker.io
  # compose: the v2 plugin where Debian has it, else docker-compose (v1, Debian 12).
  if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
    if apt-cache show docker-compose-plugin >/dev/null 2>&1; then apt_install docker-compose-plugin; else apt_install docker-compose; fi
  fi
  if [ -d /run/systemd/system ] && [ "$(ps -o comm= -p 1 2>/dev/null)" = systemd ]; then
    act systemctl enable --now docker
    [ "$dry_run" -eq 1 ] && return 0
    i=0
    while ! docker info >/dev/null 2>&1; do
      i=$((i + 1)); [ "$i" -le 30 ] || die "docker.service started but \`docker info\` still fails: see journalctl -u docker"
      sleep 1
    done
    say "docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null) is running (enabled at boot)"
  elif [ "$dry_run" -eq 0 ] && docker info >/dev/null 2>&1; then
    say "docker engine is running (started by its package; systemd is not PID 1 here, so nothing starts it at boot)"
  else
    say "systemd is not PID 1 here, so the docker engine cannot be started as a service. Start it with:"
    say "  nohup dockerd >/var/log/dockerd.log 2>&1 &"
    say "and check it with \`docker info\` (it must answer before kopi-docka can back anything up)."
  fi
}

# --- the kopi-docka binary -----------------------------------------------------------------------

build_from_checkout() {
  [ -n "$here" ] && [ -f "$here/package.json" ] && [ -f "$here/src/cli.ts" ] || die "run install.sh from a kopi-docka checkout for --from-source"
  if [ "$dry_run" -eq 1 ]; then say "would build kopi-docka from $here with bun $BUN_VERSION"; binary="$here/dist/kopi-docka-linux-$arch"; return 0; fi
  if ! command -v bun >/dev/null || [ "$(bun --version)" != "$BUN_VERSION" ]; then
    command -v npm >/dev/null || apt_install npm
    say "installing bun $BUN_VERSION from npm"
    npm install -g --allow-scripts=bun "bun@$BUN_VERSION" </dev/null >/dev/null 2>&1 || die "npm could not install bun"
  fi
  (cd "$here" && bun install --frozen-lockfile </dev/null >/dev/null && bun run build.ts "bun-linux-$arch" >&2) || die "build failed"
  binary="$here/dist/kopi-docka-linux-$arch"
}

# $1: the file; $2: the SHA256SUMS to check it against, under the name $3.
verify_checksum() {
  want=$(awk -v f="$3" '$2 == f || $2 == "*" f {print $1}' "$2")
  [ -n "$want" ] || die "$3 is not listed in $2: refusing to install it"
  have=$(sha256sum "$1" | cut -d' ' -f1)
  [ "$want" = "$have" ] || die "checksum mismatch for $3 (SHA256SUMS says $want, the file is $have): nothing was changed"
  say "verified $3 against SHA256SUMS"
}

download_release() {
  command -v curl >/dev/null || apt_install curl ca-certificates
  base=${release_url%/}/$version
  name="kopi-docka-linux-$variant"
  [ "$flavour" = full ] && name="$name-full"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  say "downloading $base/$name"
  curl -fsSL -o "$work/SHA256SUMS" "$base/SHA256SUMS" </dev/null || die "could not download $base/SHA256SUMS"
  curl -fsSL -o "$work/$name" "$base/$name" </dev/null || die "could not download $base/$name"
  verify_checksum "$work/$name" "$work/SHA256SUMS" "$name"
  binary="$work/$name"
}

# The config the installed backup service reads: the word after --config in its ExecStart, spelt as
# `execArg` (src/systemd/units.ts) writes it (plain, or in double quotes with \\ and \" escaped; % and $
# doubled), else the default. Nothing when no service is installed.
service_config() {
  unit="$unit_dir/kopi-docka-backup.service"
  [ -f "$unit" ] || return 0
  line=$(sed -n 's/^ExecStart=//p' "$unit" | head -n 1)
  case "$line" in
    *' --config "'*) printf '%s\n' "$line" | sed -E 's/.* --config "(([^"\\]|\\.)*)".*/\1/; s/\\(.)/\1/g; s/%%/%/g; s/\$\$/$/g' ;;
    *' --config '*) printf '%s\n' "$line" | sed -E 's/.* --config ([^ ]+).*/\1/; s/%%/%/g; s/\$\$/$/g' ;;
    *) printf '%s\n' /etc/kopi-docka/config.toml ;;
  esac
}

# $1: the staged binary. Every existing config a run here reads (the one --config names, the one the
# installed service names) must load in it, as `kopi-docka upgrade` checks: one it rejects (a key
# renamed in this release) would fail each backup and freshness check at config load, before any
# alert target is known, so nothing would tell anyone.
check_configs() {
  checked=""
  for c in "$config" "$(service_config)"; do
    [ -n "$c" ] && [ -e "$c" ] && [ "$c" != "$checked" ] || continue
    checked=$c
    if [ "$dry_run" -eq 1 ]; then say "would check that the new binary accepts $c"; continue; fi
    if ! why=$("$1" config validate --config "$c" 2>&1 </dev/null); then
      rm -f "$1"
      printf '%s\n' "$why" | sed 's/^/install:   /' >&2
      die "the new binary rejects the config $c (above), so nothing was installed: $PREFIX/kopi-docka is unchanged. Fix what it names in $c (the new release's notes say what changed), then run the installer again"
    fi
  done
}

install_binary() {
  target="$PREFIX/kopi-docka"
  if [ -f "$target" ] && cmp -s "$binary" "$target"; then
    say "already installed: $("$target" --version 2>/dev/null || echo kopi-docka) at $target"
    return 0
  fi
  act mkdir -p "$PREFIX"
  tmp="$target.new.$$"
  # Same directory, then rename: a running kopi-docka keeps its file, and no one sees half a binary.
  act cp "$binary" "$tmp"
  act chmod 0755 "$tmp"
  # It must run here (this CPU, a whole file) before it replaces anything: a host left with a binary
  # that cannot start has no backups and no \`recover\` for a crashed run's stopped containers.
  if [ "$dry_run" -eq 0 ] && ! "$tmp" --version >/dev/null 2>&1; then
    rm -f "$tmp"
    die "the new binary does not run on this machine ($(uname -m)); nothing was replaced"
  fi
  check_configs "$tmp"
  # On disk before the rename, the rename on disk after it: otherwise a power cut soon after can leave
  # a zero-length binary (XFS, ext4 with noauto_da_alloc) that neither service can start. `sync FILE`
  # fsyncs that file (coreutils, busybox); a sync without arguments flushes everything instead.
  [ "$dry_run" -eq 1 ] || sync "$tmp" 2>/dev/null || sync
  # The one it replaces is kept, as \`kopi-docka upgrade\` keeps it: \`kopi-docka upgrade --rollback\` puts it back.
  if [ -f "$target" ]; then
    act ln -f "$target" "$target.previous.$$"
    act mv -f "$target.previous.$$" "$target.previous"
  fi
  act mv -f "$tmp" "$target"
  [ "$dry_run" -eq 1 ] || sync "$PREFIX" 2>/dev/null || sync
  [ "$dry_run" -eq 1 ] || say "installed $("$target" --version) at $target"
}

install_config_and_timer() {
  kd="$PREFIX/kopi-docka"
  [ "$dry_run" -eq 0 ] || [ -x "$kd" ] || kd=kopi-docka
  if [ -e "$config" ]; then
    say "kept the existing config $config"
  else
    act "$kd" config init --config "$config"
  fi
  if [ "$timer" -eq 0 ]; then say "systemd timer skipped (--no-timer)"; return 0; fi
  if [ ! -d "$unit_dir" ]; then
    # A root without systemd (a container, a minimal chroot): the binary works; the timer can come later.
    say "no $unit_dir here (no systemd?): timer skipped; \`kopi-docka systemd install\` adds it later"
    return 0
  fi
  set -- "$kd" systemd install --unit-dir "$unit_dir" --binary "$PREFIX/kopi-docka"
  [ "$config" = /etc/kopi-docka/config.toml ] || set -- "$@" --config "$config"
  [ "$enable" -eq 1 ] || set -- "$@" --no-enable
  # The binary is in place by now (and accepts the config the installed units read): say so, and
  # what finishes the job. --no-timer would not: units already installed stay as they are.
  if [ "$dry_run" -eq 1 ]; then say "would run: $*"; else "$@" >&2 || die "$PREFIX/kopi-docka is installed, but its systemd units could not be written (the error is above). Fix that, then run: $*"; fi
}

uninstall() {
  kd="$PREFIX/kopi-docka"
  units=0
  for u in kopi-docka-backup.timer kopi-docka-backup.service kopi-docka-freshness.timer kopi-docka-freshness.service; do
    [ -e "$unit_dir/$u" ] && units=1
  done
  if [ "$units" -eq 0 ]; then
    : # no units here (no systemd, or --no-timer): only the binary goes
  elif [ -x "$kd" ]; then
    # Never the binary without its units: a timer left behind would fail every night, unseen.
    act "$kd" systemd uninstall --unit-dir "$unit_dir" >&2 ||
      die "could not remove the units in $unit_dir, so $kd stays (\`systemctl disable --now kopi-docka-backup.timer kopi-docka-freshness.timer\`, delete $unit_dir/kopi-docka-backup.* $unit_dir/kopi-docka-freshness.*, then run --uninstall again)"
  else
    say "no $kd to remove the units with: \`systemctl disable --now kopi-docka-backup.timer kopi-docka-freshness.timer\` and delete $unit_dir/kopi-docka-backup.* $unit_dir/kopi-docka-freshness.*"
  fi
  for f in "$kd" "$kd.previous"; do [ -e "$f" ] && act rm -f "$f"; done
  if [ "$dry_run" -eq 1 ]; then say "would remove kopi-docka from $PREFIX and its units from $unit_dir"
  else say "removed kopi-docka from $PREFIX and its units from $unit_dir"; fi
  say "kept: the config $config, the repository password and the repository itself"
  say "  (their paths are repository.password_file and repository.path in the config;"
  say "   defaults /var/lib/kopi-docka/repository.password and /var/lib/kopi-docka/repository)"
}

next_steps() {
  [ "$dry_run" -eq 1 ] && return 0
  command -v docker >/dev/null || say "note: docker is not installed; kopi-docka backs up Docker workloads (use --with-deps)"
  say "next steps:"
  say "  kopi-docka doctor          # checks docker, kopia and the config"
  say "  kopi-docka config show     # the settings in $config"
  say "  kopi-docka backup          # a first backup now (the timer runs one nightly)"
}

main() {
  release_url=${KOPI_DOCKA_RELEASE_URL:-$DEFAULT_RELEASE_URL}
  version="" binary="" source="" flavour="" with_deps=0 dry_run=0 mode=install cross=""
  PREFIX=/usr/local/bin config=/etc/kopi-docka/config.toml unit_dir=/etc/systemd/system enable=1 timer=1
  while [ $# -gt 0 ]; do
    case "$1" in
      --release-url) release_url=${2:?--release-url needs a URL}; source=release; shift 2 ;;
      --version) version=${2:?--version needs a version}; source=release; shift 2 ;;
      --binary) binary=${2:?--binary needs a file}; source=binary; shift 2 ;;
      --from-source) source=checkout; shift ;;
      --full) flavour=full; shift ;;
      --slim) flavour=slim; shift ;;
      --with-deps) with_deps=1; shift ;;
      --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
      --config) config=${2:?--config needs a file}; shift 2 ;;
      --unit-dir) unit_dir=${2:?--unit-dir needs a directory}; shift 2 ;;
      --no-enable) enable=0; shift ;;
      --no-timer) timer=0; shift ;;
      --dry-run) dry_run=1; shift ;;
      --uninstall) mode=uninstall; shift ;;
      --kopia-only) mode=kopia; shift ;;
      --kopia-cross) cross=${2:?--kopia-cross needs amd64 or arm64}; mode=cross; shift 2 ;;
      --go-only) mode=go; shift ;;
      -h|--help) usage; return 0 ;;
      *) usage >&2; die "unknown option $1" ;;
    esac
  done
  [ "$dry_run" -eq 1 ] || [ "$mode" = cross ] || [ "$(id -u)" -eq 0 ] || die "run as root (sudo sh install.sh …)"
  detect_arch
  case "$mode" in
    uninstall) uninstall; return 0 ;;
    kopia) install_kopia; return 0 ;;
    cross) kopia_cross "$cross"; return 0 ;;
    go) go_new_enough || use_pinned_go; command -v go; return 0 ;;
  esac
  # Run from a checkout (not piped), with no other source named: build it, as before releases existed.
  # Piped (`curl | sh`), $0 is the shell's name, not a file: never mistake the cwd for a checkout.
  here=""
  case "$0" in *install.sh) [ -f "$0" ] && here=$(cd "$(dirname "$0")" && pwd) ;; esac
  if [ -z "$source" ]; then
    if [ -n "$here" ] && [ -f "$here/src/cli.ts" ]; then source=checkout; else source=release; fi
  fi
  [ "$with_deps" -eq 0 ] || ensure_docker_engine
  if [ -z "$flavour" ]; then if path_kopia_usable; then flavour=slim; else flavour=full; fi; fi
  case "$source" in
    binary)
      [ -f "$binary" ] || die "$binary not found"
      sums="$(dirname "$binary")/SHA256SUMS"
      if [ -f "$sums" ]; then verify_checksum "$binary" "$sums" "$(basename "$binary")"; else say "no SHA256SUMS beside $binary: not verified"; fi ;;
    checkout) install_kopia; build_from_checkout ;;
    release)
      [ -n "$version" ] || { [ "$INSTALLER_VERSION" = dev ] && version=latest || version=v$INSTALLER_VERSION; }
      case "$version" in latest|v*) ;; *) version=v$version ;; esac
      download_release ;;
  esac
  install_binary
  install_config_and_timer
  next_steps
}

# Last line: a download cut off anywhere above runs nothing.
main "$@"
