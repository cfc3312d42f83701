# Servers the off-host repository tests start on 127.0.0.1 (test/integration/repo-*.test.ts):
# OpenSSH's sshd (SFTP), rclone (`rclone serve webdav` and a local rclone remote), and moto's S3
# server in a venv cached by version. kopia's own `kopia server start` needs nothing more.
MOTO_VERSION=5.2.5

apt_install openssh-server openssh-client rclone openssl
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
