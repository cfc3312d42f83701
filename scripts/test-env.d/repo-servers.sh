# Servers the off-host repository tests start on 127.0.0.1 (test/integration/repo-*.test.ts):
# OpenSSH's sshd (SFTP), rclone (`rclone serve webdav` and a local rclone remote), and moto's S3
# server in a venv cached by version. kopia's own `kopia server start` needs nothing more.
MOTO_VERSION=5.2.5

apt_install openssh-server openssh-client rclone openssl sshpass
# Debian's package starts sshd on port 22; the tests run their own, so a running system one is left alone.

moto_venv="$TOOLS_CACHE/moto-$MOTO_VERSION"
if [ ! -x "$moto_venv/bin/moto_server" ]; then
  python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null || apt_install python3 python3-venv
  log "installing moto[server] $MOTO_VERSION into $moto_venv"
  rm -rf "$moto_venv"
  python3 -m venv "$moto_venv" || die "could not create a venv for moto"
  "$moto_venv/bin/pip" install -q "moto[server]==$MOTO_VERSION" || die "pip could not install moto[server]==$MOTO_VERSION"
fi
ln -sf "$moto_venv/bin/moto_server" /usr/local/bin/moto_server

# fake-gcs-server for the GCS test (kopia's GCS client honours STORAGE_EMULATOR_HOST), built once from
# its Go module with the go that built kopia (system go, or install.sh's pinned toolchain in the cache).
# 1.54.0 needs go 1.25.0; later ones need newer go than install.sh's pinned go1.25.11.
FAKE_GCS_VERSION=1.54.0
fake_gcs="$TOOLS_CACHE/fake-gcs-server-v$FAKE_GCS_VERSION/fake-gcs-server"
if [ ! -x "$fake_gcs" ]; then
  go_bin=$(command -v go || ls -d "$TOOLS_CACHE"/go*/bin/go 2>/dev/null | tail -n1 || true)
  [ -n "$go_bin" ] && [ -x "$go_bin" ] || die "no go toolchain to build fake-gcs-server (install.sh --kopia-only brings one)"
  log "building fake-gcs-server v$FAKE_GCS_VERSION from its Go module (about a minute, once)"
  mkdir -p "$(dirname "$fake_gcs")"
  if ! GOTOOLCHAIN=local GOBIN="$(dirname "$fake_gcs")" "$go_bin" install "github.com/fsouza/fake-gcs-server@v$FAKE_GCS_VERSION" 2>/tmp/fake-gcs-go-install.log; then
    build=$(mktemp -d)
    printf 'module kopi-docka/fake-gcs-build\n\ngo 1.24\n\nrequire github.com/fsouza/fake-gcs-server v%s\n' "$FAKE_GCS_VERSION" >"$build/go.mod"
    (cd "$build" && GOTOOLCHAIN=local GOFLAGS=-mod=mod "$go_bin" build -o "$fake_gcs" github.com/fsouza/fake-gcs-server) ||
      die "fake-gcs-server build failed (see /tmp/fake-gcs-go-install.log)"
    rm -rf "$build"
  fi
fi
ln -sf "$fake_gcs" /usr/local/bin/fake-gcs-server
