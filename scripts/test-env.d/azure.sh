# Azurite, Microsoft's Azure Storage emulator, for test/integration/repo-azure.test.ts; installed from npm
# into the cache by version. 3.35.0 is the last one that runs on Debian 12's node 18 (3.36 wants node 21).
# The test serves it over HTTPS with its own CA (kopia's azure client speaks nothing else).
AZURITE_VERSION=3.35.0

apt_install openssl util-linux mount
azurite_dir="$TOOLS_CACHE/azurite-$AZURITE_VERSION"
if [ ! -x "$azurite_dir/bin/azurite-blob" ]; then
  command -v npm >/dev/null || apt_install npm
  log "installing azurite $AZURITE_VERSION into $azurite_dir"
  rm -rf "$azurite_dir"
  npm install -g --prefix "$azurite_dir" --no-audit --no-fund "azurite@$AZURITE_VERSION" >/dev/null 2>&1 ||
    die "npm could not install azurite@$AZURITE_VERSION (try it by hand to see why)"
fi
ln -sf "$azurite_dir/bin/azurite-blob" /usr/local/bin/azurite-blob
