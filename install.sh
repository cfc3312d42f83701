#!/bin/sh
# Installs kopi-docka to /usr/local/bin (and kopia, and with --with-deps Docker, when missing).
#
#   sh install.sh [--binary FILE] [--with-deps] [--kopia-only] [--go-only] [--prefix DIR] [--help]
#
#   --binary FILE  install this kopi-docka binary (its SHA256SUMS beside it is checked when present)
#   (no --binary)  in a source checkout: build the binary with Bun (installed from npm if missing)
#   --with-deps    also install Debian's docker.io when no docker is present
#   --kopia-only   only make sure the pinned kopia is installed
#   --go-only      only make sure a go new enough to build kopia is there, and print its path (dev tools)
#   --prefix DIR   where to put the binaries (default /usr/local/bin; the systemd units expect it)
#
# kopia is built from its pinned Go module when missing (there is no Debian package; a go new enough to
# build it is fetched when needed, as the Go module golang.org/toolchain); the result is
# cached, so a second run does nothing. Shell rc files are never touched. Idempotent.
set -eu

KOPIA_VERSION=0.23.1
BUN_VERSION=1.4.5
# kopia v0.23.1's go.mod wants go >= 1.25.8 (Debian 12 ships 1.19, which cannot switch toolchains), so an
# older or missing go is replaced by this toolchain, fetched as the Go module golang.org/toolchain.
GO_MIN=1.25.8
GO_TOOLCHAIN=go1.25.11
GO_TOOLCHAIN_SHA256_amd64=dbf20d78a456c1a53fc52c06f1660851cb115be9b0807caf1abc4aedf8c77c1b
GO_TOOLCHAIN_SHA256_arm64=5248ce991643f99659acda091a3794deadd6b77df79d4e5173495c75654954e2
PREFIX=/usr/local/bin
KOPIA_CACHE=${KOPI_DOCKA_TOOLS_CACHE:-/var/cache/kopi-docka-dev}
binary=""
with_deps=0
kopia_only=0
go_only=0

say() { printf 'install: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
usage() { sed -n '2,15s/^# \{0,1\}//p' "$0"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=${2:?--binary needs a file}; shift 2 ;;
    --with-deps) with_deps=1; shift ;;
    --kopia-only) kopia_only=1; shift ;;
    --go-only) go_only=1; shift ;;
    --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

[ "$(id -u)" -eq 0 ] || die "run as root: sudo sh install.sh $*"
case "$(uname -m)" in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) die "unsupported CPU $(uname -m)" ;;
esac

apt_updated=0
apt_install() {
  missing=""
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  command -v apt-get >/dev/null || die "please install:$missing"
  [ "$apt_updated" -eq 1 ] || { apt-get update -qq; apt_updated=1; }
  say "installing$missing"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

go_new_enough() {
  command -v go >/dev/null || return 1
  have=$(go env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
  [ "$(printf '%s\n%s\n' "$GO_MIN" "$have" | sort -V | head -n1)" = "$GO_MIN" ]
}

use_pinned_go() {
  goroot="$KOPIA_CACHE/$GO_TOOLCHAIN"
  if [ ! -x "$goroot/bin/go" ]; then
    case "$arch" in x64) goarch=amd64 sum=$GO_TOOLCHAIN_SHA256_amd64 ;; *) goarch=arm64 sum=$GO_TOOLCHAIN_SHA256_arm64 ;; esac
    apt_install curl unzip ca-certificates
    mod="golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN.linux-$goarch"
    proxy=${GOPROXY:-https://proxy.golang.org}
    proxy=${proxy%%[,|]*}
    case "$proxy" in http*) ;; *) proxy=https://proxy.golang.org ;; esac
    say "fetching go $GO_TOOLCHAIN (module $mod) to build kopia"
    mkdir -p "$KOPIA_CACHE"
    work=$(mktemp -d "$KOPIA_CACHE/go-fetch.XXXXXX")
    curl -fsSL -o "$work/go.zip" "$proxy/golang.org/toolchain/@v/v0.0.1-$GO_TOOLCHAIN.linux-$goarch.zip" ||
      die "could not download $mod from $proxy"
    echo "$sum  $work/go.zip" | sha256sum -c --quiet >/dev/null 2>&1 || die "checksum mismatch for $mod"
    unzip -q "$work/go.zip" -d "$work" && mv "$work/$mod" "$goroot" || die "could not unpack $mod"
    rm -rf "$work"
  fi
  PATH="$goroot/bin:$PATH"
  export GOTOOLCHAIN=local
}

install_kopia() {
  if command -v kopia >/dev/null && kopia --version 2>/dev/null | grep -q "^v$KOPIA_VERSION"; then return 0; fi
  bin="$KOPIA_CACHE/kopia-v$KOPIA_VERSION/kopia"
  if [ ! -x "$bin" ]; then
    go_new_enough || use_pinned_go
    mkdir -p "$(dirname "$bin")"
    say "building kopia v$KOPIA_VERSION from its Go module (a few minutes, once)"
    if ! GOBIN="$(dirname "$bin")" go install "github.com/kopia/kopia@v$KOPIA_VERSION" 2>/tmp/kopia-go-install.log; then
      # Some module proxies refuse the version list `go install pkg@v` reads for its deprecation check;
      # building the same pinned version from a throwaway module needs no list.
      build=$(mktemp -d)
      printf 'module kopi-docka/kopia-build\n\ngo 1.25\n\nrequire github.com/kopia/kopia v%s\n' "$KOPIA_VERSION" >"$build/go.mod"
      (cd "$build" && GOFLAGS=-mod=mod go build -o "$bin" github.com/kopia/kopia) || die "kopia build failed"
      rm -rf "$build"
    fi
  fi
  "$bin" --version | grep -q "^v$KOPIA_VERSION" || die "$bin is not kopia v$KOPIA_VERSION"
  mkdir -p "$PREFIX"
  ln -sf "$bin" "$PREFIX/kopia"
  say "kopia v$KOPIA_VERSION at $PREFIX/kopia"
}

build_from_checkout() {
  here=$(cd "$(dirname "$0")" && pwd)
  [ -f "$here/package.json" ] && [ -f "$here/src/cli.ts" ] || die "no --binary given and $here is not a kopi-docka checkout"
  if ! command -v bun >/dev/null || [ "$(bun --version)" != "$BUN_VERSION" ]; then
    command -v npm >/dev/null || apt_install npm
    say "installing bun $BUN_VERSION from npm"
    npm install -g --allow-scripts=bun "bun@$BUN_VERSION" >/dev/null 2>&1 || die "npm could not install bun"
  fi
  (cd "$here" && bun install --frozen-lockfile >/dev/null && bun run build.ts "bun-linux-$arch" >&2) || die "build failed"
  binary="$here/dist/kopi-docka-linux-$arch"
}

verify_checksum() {
  sums="$(dirname "$1")/SHA256SUMS"
  [ -f "$sums" ] || { say "no SHA256SUMS beside $1; not verified"; return 0; }
  want=$(awk -v f="$(basename "$1")" '$2 == f {print $1}' "$sums")
  [ -n "$want" ] || die "$(basename "$1") is not listed in $sums"
  have=$(sha256sum "$1" | cut -d' ' -f1)
  [ "$want" = "$have" ] || die "checksum mismatch for $1 (expected $want, got $have)"
}

if [ "$kopia_only" -eq 1 ]; then install_kopia; exit 0; fi
if [ "$go_only" -eq 1 ]; then go_new_enough || use_pinned_go; command -v go; exit 0; fi
if [ "$with_deps" -eq 1 ] && ! command -v docker >/dev/null; then apt_install docker.io; fi
install_kopia
[ -n "$binary" ] || build_from_checkout
[ -f "$binary" ] || die "$binary not found"
verify_checksum "$binary"
target="$PREFIX/kopi-docka"
if [ -f "$target" ] && cmp -s "$binary" "$target"; then
  say "kopi-docka at $target is already this version"
else
  tmp="$target.new.$$"
  cp "$binary" "$tmp" && chmod 0755 "$tmp" && mv -f "$tmp" "$target"
  say "installed $("$target" --version) at $target"
fi
command -v docker >/dev/null || say "note: docker is not installed; kopi-docka backs up Docker workloads (use --with-deps)"
