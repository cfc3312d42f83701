# Release tests (test/e2e/release*.test.ts): curl for `curl | sh`, and the kopia the full binary embeds,
# cross-built from its Go module by install.sh (pinned go, CGO off) and cached by version under
# $TOOLS_CACHE, so only the first run on a machine spends the minutes.
apt_install curl
case "$(uname -m)" in x86_64) release_goarch=amd64 ;; *) release_goarch=arm64 ;; esac
KOPI_DOCKA_TOOLS_CACHE=$TOOLS_CACHE sh "$here/install.sh" --kopia-cross "$release_goarch" >/dev/null ||
  die "could not build kopia for the full binary (install.sh --kopia-cross $release_goarch)"
