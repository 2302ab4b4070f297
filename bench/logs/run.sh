#!/usr/bin/env bash
# redline logs vs jq on the same file, same checks; and peak memory.
#
#   bench/logs/run.sh [SIZE_MB]   (default 200; needs hyperfine, jq, python3)
#
# Builds redline in release mode, generates the log, checks that redline
# and jq count the same violations, then times both with hyperfine and
# measures redline's peak RSS with /usr/bin/time on a file 3x larger plus
# one 64 MB line.
set -euo pipefail
cd "$(dirname "$0")/../.."
size=${1:-200}
work=${BENCH_DIR:-/tmp/redline-bench-logs}
mkdir -p "$work"
target=${CARGO_TARGET_DIR:-target}

cargo build --release -p redline >&2
redline="$target/release/redline"

log="$work/app-${size}mb.log"
[ -s "$log" ] || python3 bench/logs/generate.py "$size" "$log"

echo "== same findings (per kind)"
"$redline" logs --max-reports 0 --format json "$log" \
  | tail -n 1 | python3 -c 'import json,sys; d=json.load(sys.stdin); [print("%9d %s" % (v["count"], k)) for k, v in sorted(d["by_kind"].items())]' \
  > "$work/redline.counts" || true
jq -R -r -f bench/logs/check.jq "$log" | sort | uniq -c | awk '{printf "%9d %s\n", $1, $2}' > "$work/jq.counts"
paste "$work/redline.counts" "$work/jq.counts"
diff "$work/redline.counts" "$work/jq.counts" && echo "identical counts"

echo "== throughput ($(du -m "$log" | cut -f1) MB)"
hyperfine --warmup 1 --runs "${RUNS:-5}" -i \
  --export-markdown "$work/hyperfine.md" \
  -n "redline logs" "$redline logs --max-reports 0 $log" \
  -n "jq (same checks)" "jq -R -r -f bench/logs/check.jq $log > /dev/null"
cat "$work/hyperfine.md"

echo "== peak memory"
big="$work/app-big.log"
[ -s "$big" ] || python3 bench/logs/generate.py $((size * 3)) "$big" --long-line-mb 64
/usr/bin/time -f "redline logs: %M kB peak RSS, %e s, $(du -m "$big" | cut -f1) MB" \
  "$redline" logs --max-reports 0 "$big" > /dev/null || true
