#!/usr/bin/env bash
# Installs what the test suite needs (Debian packages) and runs it.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests call: gofmt/go (fix output, Go build info),
# prometheus + promtool (redline slo against a real Prometheus), chromium
# (the SLO report's screenshot test), jq, script from bsdutils (a pty for the
# progress-bar test).
packages=(golang-go prometheus chromium jq bsdutils)
missing=()
for bin_pkg in gofmt:golang-go go:golang-go prometheus:prometheus promtool:prometheus chromium:chromium jq:jq script:bsdutils; do
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

# Microsoft's SARIF multitool (npm) validates the SARIF report in the tests.
tools="$PWD/target/tools"
export SARIF_MULTITOOL="$tools/node_modules/.bin/sarif-multitool"
if [ ! -x "$SARIF_MULTITOOL" ]; then
  echo "scripts/test.sh: installing @microsoft/sarif-multitool into target/tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" @microsoft/sarif-multitool@5.7.0 >/dev/null
fi
# npm may hold back the package's own `chmod u+x` install script.
chmod u+x "$tools"/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool

# helm and kustomize (built from the Go module proxy with the machine's Go,
# at pinned versions): the chart and overlay tests run the real binaries.
# Building helm takes minutes on two cores; the binaries stay in
# target/tools/bin (and Go's build cache) for the next run.
export PATH="$tools/bin:$PATH"
# helm's release builds set its version and the Kubernetes version it
# renders for (that of its k8s.io modules, 1.37 for v3.22.0) at link time.
helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=v3.22.0"
for pkg in chartutil lint/rules; do
  helm_ldflags+=" -X helm.sh/helm/v3/pkg/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/$pkg.k8sVersionMinor=37"
done
install_go_tool() { # BIN MODULE@VERSION LDFLAGS
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "scripts/test.sh: building $1 ($2) into target/tools/bin"
    GOBIN="$tools/bin" GOFLAGS=-buildvcs=false go install -ldflags="$3" "$2"
  fi
}
install_go_tool helm helm.sh/helm/v3/cmd/helm@v3.22.0 "$helm_ldflags"
install_go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5@v5.8.1 "-s -w"
# The chart/overlay tests fail (instead of skipping) when a tool is missing.
export REDLINE_REQUIRE_TOOLS=1

cargo fmt --all -- --check
cargo test --workspace --locked "$@"
