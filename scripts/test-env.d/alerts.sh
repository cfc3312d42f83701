# Alerts: the Prometheus textfile is checked with the real text-format parser of prometheus_client
# (PyPI), in a venv cached by version. The HTTP and SMTP receivers are started by the tests themselves
# (Bun.serve, and the smtp-server devDependency).
PROM_CLIENT_VERSION=0.21.1
alerts_venv="$TOOLS_CACHE/prom-venv-$PROM_CLIENT_VERSION"
if [ ! -x "$alerts_venv/bin/python" ] || ! "$alerts_venv/bin/python" -c 'import prometheus_client' 2>/dev/null; then
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
  log "prometheus_client $PROM_CLIENT_VERSION into $alerts_venv"
  rm -rf "$alerts_venv"
  python3 -m venv "$alerts_venv" || die "python3 -m venv failed"
  "$alerts_venv/bin/pip" install --quiet "prometheus_client==$PROM_CLIENT_VERSION" || die "pip install prometheus_client failed"
fi
ln -sfn "$alerts_venv" "$TOOLS_CACHE/prom-venv"
