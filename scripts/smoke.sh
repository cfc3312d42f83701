#!/usr/bin/env bash
# Smoke test of a built binary: it starts, answers --help, version --json and doctor.
set -euo pipefail
bin=${1:?usage: smoke.sh BINARY}
"$bin" --help >/dev/null
"$bin" version --json | grep -q '"kopiDocka"'
cfg=$(mktemp -d)
trap 'rm -rf "$cfg"' EXIT
# doctor on a throwaway config, so it never touches this machine's real kopi-docka state.
cat >"$cfg/config.toml" <<TOML
[repository]
path = "$cfg/repo"
password_file = "$cfg/password"
[paths]
state_dir = "$cfg/state"
cache_dir = "$cfg/cache"
lock_file = "$cfg/lock"
TOML
"$bin" doctor --config "$cfg/config.toml" >/dev/null
echo "smoke: $bin ok" >&2
