# Compose v2 (the `docker compose` CLI plugin) next to Debian's v1, so every compose test runs under both.
# Built from its pinned Go module with the go install.sh uses for kopia, and cached by version. It is NOT put
# into docker's own plugin dirs: a test picks v2 by pointing DOCKER_CONFIG at $TOOLS_CACHE/compose-v2, whose
# config.json lists the plugin dir in cliPluginsExtraDirs (test/helpers/env.ts, compose.ts), and setting
# docker.compose = "v2" in the test config.
COMPOSE_V2_VERSION=2.40.3
compose_v2_dir="$TOOLS_CACHE/compose-v$COMPOSE_V2_VERSION"
compose_v2_bin="$compose_v2_dir/cli-plugins/docker-compose"
compose_v2_ok() { "$compose_v2_bin" version --short 2>/dev/null | grep -qx "v\{0,1\}$COMPOSE_V2_VERSION"; }
if ! compose_v2_ok; then
  mkdir -p "$TOOLS_CACHE"
  # Two worktrees provisioning at once must not both spend minutes on the build: the second waits.
  exec 9>"$TOOLS_CACHE/compose-v2.lock"
  flock 9
  if ! compose_v2_ok; then
    go_bin=$(KOPI_DOCKA_TOOLS_CACHE=$TOOLS_CACHE sh "$here/install.sh" --go-only) || die "no go to build compose with"
    log "building compose v$COMPOSE_V2_VERSION from its Go module (a few minutes, once)"
    # `go install …@v` refuses a module whose go.mod has exclude directives; a throwaway module that
    # requires the pinned version builds the same command.
    compose_build=$(mktemp -d)
    printf 'module kopi-docka/compose-build\n\ngo 1.25\n\nrequire github.com/docker/compose/v2 v%s\n' \
      "$COMPOSE_V2_VERSION" >"$compose_build/go.mod"
    mkdir -p "$compose_v2_dir/cli-plugins"
    (cd "$compose_build" && GOTOOLCHAIN=local GOFLAGS=-mod=mod "$go_bin" build -trimpath \
      -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=v$COMPOSE_V2_VERSION" \
      -o "$compose_v2_bin.tmp" github.com/docker/compose/v2/cmd) || die "compose v$COMPOSE_V2_VERSION build failed"
    mv "$compose_v2_bin.tmp" "$compose_v2_bin"
    rm -rf "$compose_build"
    compose_v2_ok || die "$compose_v2_bin is not compose v$COMPOSE_V2_VERSION"
  fi
  flock -u 9
  exec 9>&-
fi
printf '{"cliPluginsExtraDirs": ["%s"]}\n' "$compose_v2_dir/cli-plugins" >"$compose_v2_dir/config.json"
ln -sfn "$compose_v2_dir" "$TOOLS_CACHE/compose-v2"
