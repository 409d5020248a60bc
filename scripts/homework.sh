#!/usr/bin/env bash
# Checks homework: each lesson that has a code exercise keeps it in lessons/<lesson>/exercise/,
# where the student completes src/exercise.rs until its tests pass.
#
#   scripts/homework.sh              list every exercise: done or pending
#   scripts/homework.sh 03           check lesson 03's exercise: a verdict, and a hint per failing check
#   scripts/homework.sh --course     (CI) every untouched stub fails its tests, every reference passes
#
# The exercise tests are marked #[ignore] so that `cargo test --workspace` stays green while
# the stubs are untouched; this script runs them with --ignored.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,10s/^# \{0,1\}//p' "$0"; }
fail() { echo "homework.sh: $1 (see --help)" >&2; exit 2; }

exercises() {
  for dir in lessons/lesson[0-9][0-9]_*/exercise/; do
    [[ -f "$dir/Cargo.toml" ]] && echo "${dir%/}"
  done
}
package_of() { sed -n 's/^name = "\(.*\)"$/\1/p' "$1/Cargo.toml" | head -n 1; }
title_of() { sed -n 's|^//! Exercise: \(.*\)$|\1|p' "$1/src/exercise.rs" | head -n 1; }
lesson_of() { basename "$(dirname "$1")"; }

# Runs an exercise's tests; prints cargo's output; returns cargo's status.
run_checks() {
  local dir=$1; shift
  RUST_BACKTRACE=0 cargo test -p "$(package_of "$dir")" "$@" -- --ignored --test-threads=1 2>&1
}

# The student's view of a test run: compile errors, or each failing check and its message.
explain() {
  awk '
    /^error(\[E[0-9]+\])?:/ && !/^error: test failed/ { compile = 1 }
    /could not compile/ { next }
    compile && shown < 40 { print "    " $0; shown++ ; next }
    /^---- .* stdout ----$/ { name = $2; sub(/.*::/, "", name); gsub(/_/, " ", name); print "  ✗ " name; inside = 1; next }
    inside && (/^---- / || /^failures:$/) { inside = 0 }
    inside && /panicked at/ { next }
    inside && /^note: run with/ { next }
    inside && NF { print "      " $0 }
  '
}

check_one() {
  local number=$1 dir=""
  for candidate in $(exercises); do
    [[ "$(lesson_of "$candidate")" == lesson${number}_* ]] && dir=$candidate
  done
  [[ -n "$dir" ]] || fail "lesson $number has no exercise (scripts/homework.sh lists them)"
  local lesson; lesson=$(lesson_of "$dir")
  echo "Checking $lesson: $(title_of "$dir")"
  echo "  your file: $dir/src/exercise.rs"
  local output status=0
  output=$(run_checks "$dir") || status=$?
  local passed failed
  passed=$(grep -c '^test .* \.\.\. ok$' <<< "$output" || true)
  failed=$(grep -c '^test .* \.\.\. FAILED$' <<< "$output" || true)
  if (( status == 0 )); then
    echo "  ✓ done: all $passed checks pass."
    return 0
  fi
  if (( passed + failed == 0 )); then
    echo "  ✗ not yet: the exercise does not compile. The compiler says:"
  else
    echo "  ✗ not yet: $failed of $((passed + failed)) checks fail."
  fi
  explain <<< "$output"
  echo "  Run it again after each change: scripts/homework.sh $number"
  return 1
}

list_all() {
  echo "Running every exercise's checks (a few seconds each)..."
  printf '%-22s %-8s %s\n' "lesson" "status" "exercise"
  for dir in $(exercises); do
    local status="pending"
    run_checks "$dir" >/dev/null 2>&1 && status="done"
    printf '%-22s %-8s %s\n' "$(lesson_of "$dir")" "$status" "$(title_of "$dir")"
  done
  echo "Check one with: scripts/homework.sh NN"
}

check_course() {
  local bad=0 count=0
  for dir in $(exercises); do
    count=$((count + 1))
    local lesson; lesson=$(lesson_of "$dir")
    if run_checks "$dir" >/dev/null 2>&1; then
      echo "✗ $lesson: the stub passes its own tests (they assert too little, or the stub was filled in)"
      bad=1
    else
      echo "✓ $lesson: the untouched stub fails its tests"
    fi
    local output
    if output=$(run_checks "$dir" --features reference); then
      echo "✓ $lesson: the reference solution passes"
    else
      echo "✗ $lesson: the reference solution fails its tests:"
      explain <<< "$output"
      bad=1
    fi
  done
  (( count > 0 )) || { echo "no exercises found"; exit 1; }
  exit "$bad"
}

case "${1:-}" in
  "") list_all ;;
  -h|--help) usage ;;
  --course) check_course ;;
  *)
    [[ $# -eq 1 && "$1" =~ ^[0-9]{1,2}$ ]] || fail "expected a lesson number such as 03, not '$*'"
    check_one "$(printf '%02d' "$((10#$1))")"
    ;;
esac
