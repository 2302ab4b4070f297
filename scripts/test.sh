#!/usr/bin/env bash
# Installs what the test suite needs (Debian packages) and runs it.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests call: gofmt/go (fix output, Go build info),
# prometheus + promtool (redline slo against a real Prometheus), chromium
# (the SLO report's screenshot test), jq.
packages=(golang-go prometheus chromium jq)
missing=()
for bin_pkg in gofmt:golang-go go:golang-go prometheus:prometheus promtool:prometheus chromium:chromium jq:jq; do
  bin=${bin_pkg%%:*}
  pkg=${bin_pkg##*:}
  command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "scripts/test.sh: installing ${packages[*]} (missing: ${missing[*]})"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
fi

cargo fmt --all -- --check
cargo test --workspace --locked "$@"
