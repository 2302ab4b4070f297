#!/usr/bin/env bash
# Installs what the test suite needs and runs it: formatting, clippy, docs
# and every test of the workspace.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

# Where the time goes: each phase's wall time, printed at the end.
phases=()
phase_start=$(date +%s)
phase_name="setup (toolchain, packages)"
phase() { # next phase's name
  local now
  now=$(date +%s)
  phases+=("$phase_name: $((now - phase_start)) s")
  phase_name=$1
  phase_start=$now
}

# Rust: the toolchain the workspace declares (`rust-version` in Cargo.toml),
# with rustfmt and clippy.
if ! command -v cargo >/dev/null 2>&1; then
  echo "scripts/test.sh: cargo not found; install Rust with rustup (https://rustup.rs), then re-run" >&2
  exit 2
fi
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi

# Go: the tests build and vet Go 1.26 code (fixes, build info, the YAML
# oracle) and install helm/kustomize with it. The machine's Go lives in
# /usr/local/go; Debian's golang-go is only a fallback (too old for some
# tests, which then fail saying so).
for d in /usr/local/go/bin "$HOME/go/bin"; do
  case ":$PATH:" in *":$d:"*) ;; *) [ -d "$d" ] && PATH="$d:$PATH" ;; esac
done
export PATH

# Debian packages the tests call: a C compiler (the tree-sitter grammar),
# go/gofmt (fix output, Go build info; Debian's golang-go only when no Go is
# installed), prometheus + promtool (redline slo against a real Prometheus),
# chromium (the SLO report's screenshot test), jq, script from bsdutils (a
# pty for the progress-bar test), npm (the SARIF multitool), git, nvim
# (Neovim: the LSP client that drives `redline server` in the tests).
missing=()
for bin_pkg in cc:gcc gofmt:golang-go go:golang-go prometheus:prometheus promtool:prometheus \
  chromium:chromium jq:jq script:bsdutils npm:npm git:git nvim:neovim; do
  bin=${bin_pkg%%:*}
  pkg=${bin_pkg##*:}
  command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  # Unique package names, in order.
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
  echo "scripts/test.sh: installing ${missing[*]} with apt-get"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The YAML differential test (crates/redline_yaml/tests/oracle.rs) builds a
# Go oracle against sigs.k8s.io/yaml: fetch the modules its go.sum pins.
(cd crates/redline_yaml/tests/oracle && go mod download)

# Microsoft's SARIF multitool (npm) validates the SARIF report in the tests.
tools="$PWD/target/tools"
export SARIF_MULTITOOL="$tools/node_modules/.bin/sarif-multitool"
if [ ! -x "$SARIF_MULTITOOL" ]; then
  echo "scripts/test.sh: installing @microsoft/sarif-multitool into target/tools"
  mkdir -p "$tools"
  if ! npm install --no-audit --no-fund --prefix "$tools" @microsoft/sarif-multitool@5.7.0 \
    >"$tools/npm-install.log" 2>&1; then
    echo "scripts/test.sh: npm could not install @microsoft/sarif-multitool; its output follows." >&2
    echo "  Check that npm reaches its registry (npm config get registry; behind a TLS-inspecting" >&2
    echo "  proxy, NODE_EXTRA_CA_CERTS or npm's cafile must name the proxy's CA), then re-run." >&2
    cat "$tools/npm-install.log" >&2
    exit 2
  fi
fi
# npm may hold back the package's own `chmod u+x` install script.
chmod u+x "$tools"/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool

# helm, kustomize and Sloth (built from the Go module proxy with the
# machine's Go, at pinned versions): the chart and overlay tests and the
# side-by-side SLO rule test (crates/redline_slo/tests/sloth_side_by_side.rs)
# run the real binaries.
# Building helm takes minutes on two cores; the binaries stay in
# ~/.cache/redline-test-tools/bin (REDLINE_TOOLS_DIR), outside the checkout,
# so a fresh clone on the same machine reuses them.
go_tools="${REDLINE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/redline-test-tools}"
mkdir -p "$go_tools/bin"
export PATH="$go_tools/bin:$PATH"
# helm's release builds set its version and the Kubernetes version it
# renders for (that of its k8s.io modules, 1.37 for v3.22.0) at link time.
helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=v3.22.0"
for pkg in chartutil lint/rules; do
  helm_ldflags+=" -X helm.sh/helm/v3/pkg/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/$pkg.k8sVersionMinor=37"
done
install_go_tool() { # BIN MODULE@VERSION LDFLAGS
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "scripts/test.sh: building $1 ($2) into $go_tools/bin"
    GOBIN="$go_tools/bin" GOFLAGS=-buildvcs=false go install -ldflags="$3" "$2"
  fi
}
phase "Go tools (helm, kustomize, Sloth)"
install_go_tool helm helm.sh/helm/v3/cmd/helm@v3.22.0 "$helm_ldflags"
install_go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5@v5.8.1 "-s -w"
# Sloth's release builds set its version at link time (`sloth version`, and
# the sloth_version label it records); the test checks it is this one.
install_go_tool sloth github.com/slok/sloth/cmd/sloth@v0.16.0 \
  "-s -w -X github.com/slok/sloth/internal/info.Version=v0.16.0"
# The chart/overlay/Sloth tests fail (instead of skipping) when a tool is missing.
export REDLINE_REQUIRE_TOOLS=1

phase "cargo fmt --check"
cargo fmt --all -- --check
phase "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
phase "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
phase "building the tests"
cargo test --workspace --locked --no-run "$@"
phase "running the tests"
cargo test --workspace --locked "$@"
phase done
echo "scripts/test.sh: time per phase (wall):"
printf '  %s\n' "${phases[@]}"
