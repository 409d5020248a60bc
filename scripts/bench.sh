#!/usr/bin/env bash
# The course benchmark: how well CPU-bound work uses this machine's cores. Runs the lessons
# whose comparisons are the course's headline figures (lesson06: the lecture's word count and
# count_prime; lesson09: bzip2 decompression and block compression) several times with --json,
# and prints one table of medians over the runs: workload, variant, time, speedup, efficiency,
# cores used, with the course's efficiency targets checked. Needs nothing but cargo: the table
# is made by the `bench-table` binary (shared/reports), not jq or Python.
#
#   scripts/bench.sh               3 runs of each lesson at full size (a few minutes)
#   scripts/bench.sh --runs 5      more runs, steadier medians
#   scripts/bench.sh --quick       small sizes, one run: checks that the benchmark works
#   scripts/bench.sh --strict      exit 1 when a target is missed
#
# Measure on a quiet machine: anything else running takes cores from the lessons.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

usage() { sed -n '2,14s/^# \{0,1\}//p' "$0"; }
fail() { echo "bench.sh: $1 (see --help)" >&2; exit 2; }

runs=3 quick=0 strict=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]?$ ]] || fail "--runs takes a number of runs from 1 to 99"; runs="$2"; shift ;;
    --quick) quick=1; runs=1 ;;
    --strict) strict=1 ;;
    -h|--help) usage; exit 0 ;;
    *) fail "unknown option '$1'" ;;
  esac
  shift
done

echo "Building..." >&2
cargo build --quiet --bins -p lesson06_pool_map -p lesson09_bzip2 -p reports
bin_dir=$(dev_bin_dir)

lesson_flags=(--json)
(( quick )) && lesson_flags+=(--quick)
table_flags=(
  --workload "word count of the lecture's 300 strings"
  --workload "count_prime on 4 numbers"
  --workload "bzip2 decompression"
  --workload "bzip2 compression"
  --target "count_prime on 4 numbers/thread pool>=0.90"
  --target "count_prime on 4 numbers/rayon>=0.90"
  --target "count_prime on 4 numbers/process pool>=0.85"
  --target "bzip2 decompression/threads>=0.90"
)
(( strict )) && table_flags+=(--strict)

if [[ -r /proc/loadavg ]]; then
  read -r load1 _ < /proc/loadavg
  echo "Load average before the runs: $load1 (a quiet machine is near 0)" >&2
fi
started=$SECONDS
# The reports go straight from the lessons into the table: no files are written.
for (( run = 1; run <= runs; run++ )); do
  for lesson in lesson06_pool_map lesson09_bzip2; do
    echo "run $run of $runs: $lesson" >&2
    "$bin_dir/$lesson" "${lesson_flags[@]}"
  done
done | "$bin_dir/bench-table" "${table_flags[@]}"
echo "Benchmark took $(( SECONDS - started )) s." >&2
