#!/usr/bin/env bash
# Checks homework: the same as `cargo homework` (shared/homework), for those who know this name
# and for CI. Every argument goes to the runner:
#
#   scripts/homework.sh              list every exercise: done, not yet or not started (saved progress)
#   scripts/homework.sh 03           check lesson 03's exercise: a verdict and a hint per failing check
#   scripts/homework.sh watch 03     check again each time the exercise is saved
#   scripts/homework.sh hint 03      the next hint; reset 03: the stub again, yours kept as a backup
#   scripts/homework.sh --course     (CI) every untouched stub fails its checks, every reference passes
#
# The exercise checks are marked #[ignore] so that `cargo test --workspace` stays green while
# the stubs are untouched; the runner runs them with --ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --package homework --bin homework -- "$@"
