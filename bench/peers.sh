#!/usr/bin/env bash
# redline against the peers a Go team runs, side by side on the same trees:
# golangci-lint v2 (bench/peers/golangci.yml: gosec G112/G114, staticcheck
# SA5000, forbidigo for os.Setenv and log.Print*, depguard for "log") and
# staticcheck (-checks SA5000), at pinned versions.
#
# Usage: bench/peers.sh TREES_DIR NAME...      (e.g. /scratch etcd prometheus cluster-api argo-cd)
#   Each NAME is a directory TREES_DIR/NAME holding a Go tree. With more than
#   one NAME, redline also runs on TREES_DIR/all (made with `cp -al` of the
#   trees when missing); the Go peers cannot take several repositories in
#   one run, so their "all" row is the sum of their per-tree runs.
#
# What it does, once per tree:
#   1. installs golangci-lint and staticcheck into $PEERS_HOME/bin (outside
#      the repository) with `go install MODULE@VERSION` when they are missing
#      or at another version;
#   2. downloads every module's dependencies (`go mod download`) and
#      compiles them into the Go build cache (`go list -export -deps -test`),
#      so that neither download nor dependency compilation is timed;
#   3. times, one run each, with /usr/bin/time -v (user+sys CPU, wall, peak RSS):
#        golangci-lint cold  empty GOLANGCI_LINT_CACHE, Go build cache warm
#        golangci-lint warm  the same command again, nothing changed
#        staticcheck cold    empty STATICCHECK_CACHE
#        staticcheck warm    again
#        redline cold        `redline check` with an empty cache directory
#        redline warm        again, nothing changed
#      The Go tools run once per Go module of the tree (every go.mod outside
#      vendor/, testdata/, node_modules/; GOWORK=off, GOFLAGS=-mod=mod) and
#      their times are summed: redline checks the whole tree in one run.
#
# Environment:
#   REDLINE              the binary (default: $CARGO_TARGET_DIR/release/redline or target/release/redline)
#   PEERS_HOME           tools and tool caches (default: ~/.cache/redline-bench/peers)
#   GOLANGCI_LINT_VERSION  default v2.15.0
#   STATICCHECK_VERSION  default v0.8.2
#   OUT                  results directory (default: a temp dir); results.tsv there
#   NICE                 niceness of every timed command (default 10; CPU time is the measure,
#                        wall time depends on what else runs)
#   SKIP_PREPARE=1       skip step 2 (modules already downloaded and compiled)
#   STEP_TIMEOUT         seconds per timed command (default 3600)
#   TOOLS                the Go peers to run (default "golangci-lint staticcheck")
set -uo pipefail

if [[ $# -lt 2 || ! -d "$1" ]]; then
    echo "usage: bench/peers.sh TREES_DIR NAME...   (each TREES_DIR/NAME a Go tree)" >&2
    exit 2
fi
TREES=$(realpath "$1")
shift
NAMES=("$@")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
CONFIG="$HERE/peers/golangci.yml"
PEERS_HOME=${PEERS_HOME:-$HOME/.cache/redline-bench/peers}
GOLANGCI_LINT_VERSION=${GOLANGCI_LINT_VERSION:-v2.15.0}
STATICCHECK_VERSION=${STATICCHECK_VERSION:-v0.8.2}
NICE=${NICE:-10}
STEP_TIMEOUT=${STEP_TIMEOUT:-3600}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT" "$PEERS_HOME/bin"
BIN="$PEERS_HOME/bin"
if [[ -z "${REDLINE:-}" ]]; then
    for candidate in "${CARGO_TARGET_DIR:-$ROOT/target}/release/redline" "$ROOT/target/release/redline"; do
        if [[ -x "$candidate" ]]; then REDLINE=$candidate; break; fi
    done
fi
if [[ -z "${REDLINE:-}" || ! -x "$REDLINE" ]]; then
    echo "bench/peers.sh: no release binary; run \`cargo build --release -p redline\` or set REDLINE" >&2
    exit 2
fi
command -v go >/dev/null || { echo "bench/peers.sh: go is not on PATH" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "bench/peers.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
export GOTOOLCHAIN=local GOWORK=off GOFLAGS="-mod=mod -buildvcs=false"

log() { echo "$(date -u +%T) $*" >&2; }

# 1. The tools, at their pinned versions.
install() { # binary module version version-regex
    local bin=$1 module=$2 version=$3 want=$4
    if [[ -x "$BIN/$bin" ]] && go version -m "$BIN/$bin" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]].*[[:space:]]$want([[:space:]]|$)"; then
        return 0
    fi
    log "installing $module@$version into $BIN"
    GOBIN="$BIN" GOFLAGS=-buildvcs=false nice -n "$NICE" go install "$module@$version" || {
        echo "bench/peers.sh: cannot install $module@$version (is the Go module proxy reachable?)" >&2
        exit 1
    }
}
install golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint "$GOLANGCI_LINT_VERSION" "$GOLANGCI_LINT_VERSION"
install staticcheck honnef.co/go/tools/cmd/staticcheck "$STATICCHECK_VERSION" "$STATICCHECK_VERSION"
log "$("$BIN/golangci-lint" version 2>&1 | head -1)"
log "$("$BIN/staticcheck" -version 2>&1 | head -1)"
"$BIN/golangci-lint" config verify -c "$CONFIG" || exit 1

modules() { # tree -> module directories
    find "$1" -name go.mod -not -path '*/vendor/*' -not -path '*/testdata/*' -not -path '*/node_modules/*' \
        -printf '%h\n' | sort
}

RESULTS="$OUT/results.tsv"
[[ -f "$RESULTS" ]] || printf 'tree\ttool\tmode\tmodules\tuser_s\tsys_s\tcpu_s\twall_s\tmax_rss_mib\tfindings\tfailed_modules\tload_before\n' >"$RESULTS"

# Runs "$@" under /usr/bin/time -v; prints "user sys wall_s rss_kb rc".
timed() { # out err cmd...
    local out=$1 err=$2 tf
    shift 2
    tf=$(mktemp)
    /usr/bin/time -v -o "$tf" timeout "$STEP_TIMEOUT" nice -n "$NICE" "$@" >"$out" 2>"$err"
    local rc=$?
    awk -F': ' -v rc="$rc" '
        /User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {m=$2}
        /Elapsed \(wall/ {n=split($2, p, ":"); w=0; for (i=1; i<=n; i++) w=w*60+p[i]}
        END {printf "%s %s %.2f %s %s\n", u, s, w, m, rc}' "$tf"
    rm -f "$tf"
}

# Counts findings in a tool's JSON output.
count() { # tool file
    case $1 in
    # golangci-lint v2 writes its text summary ("3 issues: …") after the JSON document
    golangci-lint) python3 -c 'import json,sys
try: print(len((json.JSONDecoder().raw_decode(open(sys.argv[1]).read())[0] or {}).get("Issues") or []))
except Exception: print(0)' "$2" ;;
    # compile errors are failures, not findings
    staticcheck) grep '^{' "$2" | grep -vc '"code":"compile"' ;;
    redline) python3 -c 'import json,sys
try:
    d=json.load(open(sys.argv[1])); print(len(d if isinstance(d,list) else d.get("diagnostics",[])))
except Exception: print(0)' "$2" ;;
    esac
}

record() { # tree tool mode nmods user sys wall rss_kb findings failed load
    printf '%s\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" \
        "$(echo "$5 + $6" | bc)" "$7" "$(echo "$8 / 1024" | bc -l)" "$9" "${10}" "${11}" >>"$RESULTS"
    log "$1 $2 $3: cpu $(printf %.2f "$(echo "$5 + $6" | bc)") s, wall $7 s, peak $(( ${8%.*} / 1024 )) MiB, $9 findings${10:+, failed: ${10}}"
}

load() { cut -d' ' -f1 /proc/loadavg; }

# One Go tool, cold then warm, over every module of a tree.
go_tool() { # name tree
    local name=$1 tree=$2 cachevar cache mode
    case $name in
    golangci-lint) cachevar=GOLANGCI_LINT_CACHE ;;
    staticcheck) cachevar=STATICCHECK_CACHE ;;
    esac
    cache="$PEERS_HOME/cache/$name/$(basename "$tree")"
    rm -rf "$cache"
    mkdir -p "$cache"
    for mode in cold warm; do
        local user=0 sys=0 wall=0 rss=0 findings=0 failed="" n=0 l
        l=$(load)
        while read -r dir; do
            n=$((n + 1))
            local rel=${dir#"$tree"}
            rel=${rel#/}
            local tag
            tag=$(echo "${rel:-root}" | tr '/' '_')
            local out="$OUT/$name-$(basename "$tree")-$tag-$mode.json" err="$OUT/$name-$(basename "$tree")-$tag-$mode.stderr"
            local r
            case $name in
            golangci-lint)
                r=$(cd "$dir" && export "$cachevar=$cache" && timed "$out" "$err" "$BIN/golangci-lint" run -c "$CONFIG" ./...) ;;
            staticcheck)
                r=$(cd "$dir" && export "$cachevar=$cache" && timed "$out" "$err" "$BIN/staticcheck" -checks SA5000 -f json ./...) ;;
            esac
            read -r u s w m rc <<<"$r"
            user=$(echo "$user + $u" | bc)
            sys=$(echo "$sys + $s" | bc)
            wall=$(echo "$wall + $w" | bc)
            ((m > rss)) && rss=$m
            findings=$((findings + $(count "$name" "$out")))
            # golangci-lint: 1 = issues found; staticcheck: 1 = problems found.
            # Anything else (type errors: 3 / 7, timeout: 124) is a failure.
            if [[ $rc != 0 && $rc != 1 ]] || grep -q '"code":"compile"\|typechecking error\|could not load export data\|build constraints exclude' "$err" "$out" 2>/dev/null; then
                failed="$failed${failed:+ }${rel:-.}(rc=$rc)"
            fi
        done < <(modules "$tree")
        record "$(basename "$tree")" "$name" "$mode" "$n" "$user" "$sys" "$wall" "$rss" "$findings" "$failed" "$l"
    done
}

redline_runs() { # tree label
    local tree=$1 label=$2 cache="$PEERS_HOME/cache/redline/$2" mode
    rm -rf "$cache"
    mkdir -p "$cache"
    for mode in cold warm; do
        local l r out="$OUT/redline-$label-$mode.json"
        l=$(load)
        r=$(timed "$out" "$OUT/redline-$label-$mode.stderr" "$REDLINE" --isolated check --cache-dir "$cache" --format json "$tree")
        read -r u s w m rc <<<"$r"
        local failed=""
        [[ $rc -gt 1 ]] && failed="rc=$rc"
        record "$label" redline "$mode" 1 "$u" "$s" "$w" "$m" "$(count redline "$out")" "$failed" "$l"
    done
}

# 2. Modules downloaded and dependencies compiled, once per tree.
prepare() { # tree
    local dir
    while read -r dir; do
        if ! (cd "$dir" && nice -n "$NICE" go mod download) >"$OUT/prepare.log" 2>&1; then
            log "$dir: go mod download failed: $(tail -1 "$OUT/prepare.log")"
        fi
        (cd "$dir" && nice -n "$NICE" go list -e -export -deps -test ./... >/dev/null 2>>"$OUT/prepare.log")
        local errs
        errs=$(cd "$dir" && go list -e -deps -test -f '{{with .Error}}{{.Err}}{{end}}' ./... 2>&1 | grep -v '^$' | head -3)
        [[ -n "$errs" ]] && log "$dir does not load cleanly: $errs"
    done < <(modules "$1")
}

log "load average: $(cat /proc/loadavg); $(nproc) cores; $(go version)"
for name in "${NAMES[@]}"; do
    tree="$TREES/$name"
    [[ -d "$tree" ]] || { echo "bench/peers.sh: $tree is not a directory" >&2; exit 2; }
    log "== $name ($(modules "$tree" | wc -l) modules, $(find "$tree" -name '*.go' -not -path '*/vendor/*' -not -path '*/testdata/*' | wc -l) .go files)"
    [[ -n "${SKIP_PREPARE:-}" ]] || prepare "$tree"
    redline_runs "$tree" "$name"
    for tool in ${TOOLS:-golangci-lint staticcheck}; do go_tool "$tool" "$tree"; done
done
if [[ ${#NAMES[@]} -gt 1 ]]; then
    all="$TREES/all"
    if [[ ! -d "$all" ]]; then
        mkdir -p "$all"
        for name in "${NAMES[@]}"; do cp -al "$TREES/$name" "$all/$name"; done
    fi
    redline_runs "$all" all
fi
log "load average: $(cat /proc/loadavg)"
echo "results: $RESULTS"
column -t -s $'\t' "$RESULTS"
