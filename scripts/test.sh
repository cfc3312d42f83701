#!/usr/bin/env bash
# The whole suite on this machine: provision (idempotent), typecheck, lint, build the binary, run every
# test (unit, integration against the real docker and kopia, e2e on the binary), and smoke-test the
# binary. Ends with the line CI reads: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export TZ=Etc/UTC NO_COLOR=1

bash scripts/test-env.sh || { echo "0 passed, 1 failed"; exit 1; }

failed_steps=0
step() { local name=$1; shift; echo "== $name" >&2; if ! "$@"; then echo "== $name FAILED" >&2; failed_steps=$((failed_steps + 1)); fi; }
step typecheck bun check
step lint bunx biome check .
step build bun run build.ts
step smoke bash scripts/smoke.sh dist/kopi-docka-linux-x64

log=$(mktemp)
# Integration tests drive real docker and kopia on a loaded 2-core machine: bun's 5 s default is too short.
bun test --timeout 300000 "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
count() { sed 's/\x1b\[[0-9;]*m//g' "$log" | awk -v k="$1" '$2==k && $1 ~ /^[0-9]+$/ {n=$1} END {print n+0}'; }
pass=$(count pass); fail=$(count fail); errors=$(count error)
# A file that fails to load counts as " 1 fail" and " 1 error"; a crash or no tests at all counts as one failure.
[ "$fail" -eq 0 ] && [ "$errors" -gt 0 ] && fail=$errors
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
rm -f "$log"
pass=$((pass + 0)); fail=$((fail + failed_steps))
echo "${pass} passed, ${fail} failed"
[ "$rc" -eq 0 ] && [ "$failed_steps" -eq 0 ]
