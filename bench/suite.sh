#!/usr/bin/env bash
# The benchmark behind docs/performance.md: bench/run.sh on each tree, on
# all of them together as one tree, and on 1x, 2x and 4x copies of the
# first tree (linearity; semgrep left out there).
#
# Usage: bench/suite.sh SCRATCH TREE...
#   SCRATCH  a directory outside the repository with the trees in it; the
#            combined tree and the copies are made there with hard links
#   TREE     directory names under SCRATCH, e.g. etcd prometheus cluster-api argo-cd
# Logs and hyperfine JSON go to SCRATCH/bench-logs.
set -euo pipefail
if [[ $# -lt 2 ]]; then
    echo "usage: bench/suite.sh SCRATCH TREE..." >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
SCRATCH=$(realpath "$1")
shift
cd "$SCRATCH"
export BENCH_OUT="$SCRATCH/bench-logs"
mkdir -p "$BENCH_OUT"
rm -rf all lin1 lin2 lin4
mkdir -p all lin2 lin4
for t in "$@"; do cp -al "$t" "all/$t"; done
first=$1
cp -al "$first" lin1
for i in 1 2; do cp -al "$first" "lin2/c$i"; done
for i in 1 2 3 4; do cp -al "$first" "lin4/c$i"; done
for t in "$@"; do
    RUNS=${RUNS:-10} SEMGREP_RUNS=${SEMGREP_RUNS:-3} bash "$HERE/run.sh" "$t" | tee "$BENCH_OUT/$t.log"
done
RUNS=5 SEMGREP_RUNS=2 bash "$HERE/run.sh" all all | tee "$BENCH_OUT/all.log"
for n in lin1 lin2 lin4; do
    SKIP_SEMGREP=1 RUNS=10 bash "$HERE/run.sh" "$n" "$n" | tee "$BENCH_OUT/$n.log"
done
