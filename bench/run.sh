#!/usr/bin/env bash
# Benchmarks redline against its peers on one Go tree, side by side:
#
#   redline cold   redline check --no-cache           (every file parsed and checked)
#   redline warm   redline check with a filled cache  (nothing changed since)
#   parse floor    redline debug parse                (discover + read + tree-sitter parse, all cores, nothing else)
#   semgrep        semgrep with bench/semgrep/redline.yml (8 rules emulating redline's Go rules)
#   staticcheck    go-staticcheck -checks SA5000      (only where the tree type-checks offline)
#
# Usage: bench/run.sh TREE [LABEL]
# Environment:
#   REDLINE        the binary (default: target/release/redline of this checkout,
#                  or $CARGO_TARGET_DIR/release/redline; build it with
#                  `cargo build --release -p redline`)
#   RUNS           timed runs of the fast commands (default 10)
#   SEMGREP_RUNS   timed runs of semgrep and staticcheck (default 3)
#   SKIP_SEMGREP=1 leave semgrep out (e.g. for the linearity runs)
#   SEMGREP_DEFAULT_IGNORES=1  let semgrep skip what its built-in ignore list skips
#                  (*_test.go, test dirs); by default an empty .semgrepignore is put
#                  at TREE's root for the run (and removed) so both tools read the same files
#   BENCH_OUT      directory for the hyperfine JSON (default: a temp dir)
#
# Prints each median, the ratios the targets are about, and peak memory
# (maximum resident set size from /usr/bin/time -v).
set -euo pipefail

if [[ $# -lt 1 || ! -d "$1" ]]; then
    echo "usage: bench/run.sh TREE [LABEL]   (TREE: a directory of Go code)" >&2
    exit 2
fi
TREE=$(realpath "$1")
LABEL=${2:-$(basename "$TREE")}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
if [[ -z "${REDLINE:-}" ]]; then
    for candidate in "${CARGO_TARGET_DIR:-$ROOT/target}/release/redline" "$ROOT/target/release/redline"; do
        if [[ -x "$candidate" ]]; then REDLINE=$candidate; break; fi
    done
fi
if [[ -z "${REDLINE:-}" || ! -x "$REDLINE" ]]; then
    echo "bench/run.sh: no release binary; run \`cargo build --release -p redline\` or set REDLINE" >&2
    exit 2
fi
for tool in hyperfine python3; do
    command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is not installed" >&2; exit 2; }
done
RUNS=${RUNS:-10}
SEMGREP_RUNS=${SEMGREP_RUNS:-3}
OUT=${BENCH_OUT:-$(mktemp -d)}
mkdir -p "$OUT"
CACHE=$(mktemp -d)
trap 'rm -rf "$CACHE"' EXIT
RULES="$HERE/semgrep/redline.yml"

go_files=$(find "$TREE" -name '*.go' -not -path '*/vendor/*' -not -path '*/testdata/*' | wc -l)
go_bytes=$(find "$TREE" -name '*.go' -not -path '*/vendor/*' -not -path '*/testdata/*' -print0 | du -cbl --files0-from=- | tail -1 | cut -f1)
echo "== $LABEL: $TREE ($go_files .go files, $((go_bytes / 1024 / 1024)) MiB of Go; $(nproc) cores)"
"$REDLINE" debug parse "$TREE" 2>&1 | sed 's/^/   parse floor: /'

COLD="$REDLINE --isolated check --no-cache --format json $TREE"
WARM="$REDLINE --isolated check --cache-dir $CACHE --format json $TREE"
PARSE="$REDLINE debug parse $TREE"
# semgrep's built-in ignore list skips *_test.go and test directories, which
# redline checks (its rules decide what test code may do). An empty
# .semgrepignore at the tree's root (made for the run, removed after) makes
# semgrep scan the same files; the rules exclude *_test.go themselves where
# redline's rules do. SEMGREP_DEFAULT_IGNORES=1 keeps semgrep's defaults.
SEMGREP="cd $TREE && semgrep scan --disable-version-check --metrics=off --config $RULES --json --quiet --jobs $(nproc) ."
MADE_SEMGREPIGNORE=""
if [[ -z "${SEMGREP_DEFAULT_IGNORES:-}" && -z "${SKIP_SEMGREP:-}" && ! -e "$TREE/.semgrepignore" ]]; then
    : >"$TREE/.semgrepignore"
    MADE_SEMGREPIGNORE="$TREE/.semgrepignore"
fi
trap 'rm -rf "$CACHE"; [[ -n "$MADE_SEMGREPIGNORE" ]] && rm -f "$MADE_SEMGREPIGNORE"; true' EXIT

# Fill the cache once so that every warm run is a warm run.
$WARM >/dev/null 2>&1 || true

hyperfine --style basic --ignore-failure --warmup 1 --runs "$RUNS" \
    --export-json "$OUT/$LABEL-fast.json" \
    -n "parse floor" "$PARSE" \
    -n "redline cold" "$COLD" \
    -n "redline warm" "$WARM"

slow_args=()
if [[ -z "${SKIP_SEMGREP:-}" ]]; then
    if command -v semgrep >/dev/null; then
        slow_args+=(-n "semgrep" "$SEMGREP")
    else
        echo "   semgrep: not installed; left out"
    fi
fi

# staticcheck needs the tree to type-check: a Go toolchain at least as new
# as go.mod's `go` line and every dependency in the module cache. Offline,
# for today's large repositories, neither holds: say so instead of timing it.
STATICCHECK_NOTE=""
if command -v go-staticcheck >/dev/null; then
    if [[ -f "$TREE/go.mod" ]]; then
        if (cd "$TREE" && GOFLAGS= GOPROXY=off GOTOOLCHAIN=local timeout 300 go-staticcheck -checks SA5000 ./... >"$OUT/$LABEL-staticcheck.log" 2>&1); then
            slow_args+=(-n "staticcheck SA5000" "cd $TREE && GOFLAGS= GOPROXY=off GOTOOLCHAIN=local go-staticcheck -checks SA5000 ./...")
        else
            STATICCHECK_NOTE="cannot run: $(grep -v '^\s*$' "$OUT/$LABEL-staticcheck.log" | head -2 | tr '\n' ' ' | cut -c1-240)"
        fi
    else
        STATICCHECK_NOTE="cannot run: no go.mod at the tree's root (staticcheck needs one module to type-check)"
    fi
else
    STATICCHECK_NOTE="not installed"
fi
if [[ -n "$STATICCHECK_NOTE" ]]; then
    echo "   staticcheck SA5000: $STATICCHECK_NOTE"
fi

if [[ ${#slow_args[@]} -gt 0 ]]; then
    hyperfine --style basic --ignore-failure --warmup 0 --runs "$SEMGREP_RUNS" \
        --export-json "$OUT/$LABEL-slow.json" "${slow_args[@]}"
fi

# Peak memory (maximum resident set size), one run each.
peak() {
    /usr/bin/time -v "$@" >/dev/null 2>"$OUT/time.txt" || true
    awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$OUT/time.txt"
}
MEM_COLD=$(peak $COLD)
MEM_WARM=$(peak $WARM)
MEM_PARSE=$(peak $PARSE)
MEM_SEMGREP=""
if [[ -z "${SKIP_SEMGREP:-}" ]] && command -v semgrep >/dev/null; then
    MEM_SEMGREP=$(peak bash -c "$SEMGREP")
fi

python3 - "$OUT" "$LABEL" "$MEM_COLD" "$MEM_WARM" "$MEM_PARSE" "$MEM_SEMGREP" "$STATICCHECK_NOTE" <<'PY'
import json, os, sys
out, label, mem_cold, mem_warm, mem_parse, mem_semgrep, sc_note = sys.argv[1:8]
medians, cpu = {}, {}
for part in ("fast", "slow"):
    path = os.path.join(out, f"{label}-{part}.json")
    if os.path.exists(path):
        for r in json.load(open(path))["results"]:
            medians[r["command"]] = r["median"]
            # CPU seconds (user + system, mean): steadier than wall time on
            # a machine whose cores are shared.
            cpu[r["command"]] = r["user"] + r["system"]
mem = {"redline cold": mem_cold, "redline warm": mem_warm, "parse floor": mem_parse, "semgrep": mem_semgrep}
print(f"\n   {label}: medians")
for name, m in medians.items():
    extra = f"   peak {mem[name]} MiB" if mem.get(name) else ""
    print(f"   {name:<20} {m:9.3f} s   cpu {cpu[name]:8.3f} s{extra}")
cold = medians.get("redline cold")
def ratio(a, b):
    return a / b if a and b else None
rows = [
    ("semgrep / redline cold", ratio(medians.get("semgrep"), cold), ">= 30"),
    ("redline cold / parse floor", ratio(cold, medians.get("parse floor")), "<= 1.5"),
    ("redline cold / redline warm", ratio(cold, medians.get("redline warm")), ">= 10"),
    ("staticcheck / redline cold", ratio(medians.get("staticcheck SA5000"), cold), ""),
]
def cpu_ratio(a, b):
    return cpu[a] / cpu[b] if a in cpu and b in cpu and cpu[b] else None
cpu_rows = {
    "semgrep / redline cold": cpu_ratio("semgrep", "redline cold"),
    "redline cold / parse floor": cpu_ratio("redline cold", "parse floor"),
    "redline cold / redline warm": cpu_ratio("redline cold", "redline warm"),
}
print(f"   ratios (wall-clock medians; CPU time in brackets)")
for name, r, target in rows:
    if r is not None:
        c = cpu_rows.get(name)
        c = f"  [cpu {c:6.2f}x]" if c else ""
        print(f"   {name:<28} {r:8.2f}x{c}   target {target}" if target else f"   {name:<28} {r:8.2f}x{c}")
if sc_note:
    print(f"   staticcheck SA5000: {sc_note}")
summary = {"label": label, "medians": medians, "cpu_seconds": cpu, "peak_mib": mem, "staticcheck": sc_note or "ran"}
with open(os.path.join(out, f"{label}-summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
PY
