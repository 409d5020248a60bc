#!/usr/bin/env bash
# Runs the course: builds every lesson once, then runs the lessons in order and ends with a
# summary table (lesson, exit status, seconds). Exits 1 when any lesson failed, 2 on bad options.
#
#   scripts/run-lessons.sh                 every lesson, full size
#   scripts/run-lessons.sh --quick         every lesson, small sizes (well under a minute in all)
#   scripts/run-lessons.sh --step          presenter mode: pause before each lesson, section and answer
#                                          (Enter: go on, q: end the course, s: skip, r: again)
#   scripts/run-lessons.sh --from 03       lessons 03 onwards;  --only 03 (or --only 03,05) just those
#   scripts/run-lessons.sh --json DIR      save each lesson's --json report as DIR/<lesson>.json
#   scripts/run-lessons.sh --plan          print the course schedule from the speaker notes, run nothing
#   scripts/run-lessons.sh -- ARGS...      pass ARGS to every lesson
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

usage() { sed -n '2,13s/^# \{0,1\}//p' "$0"; }
fail() { echo "run-lessons.sh: $1 (see --help)" >&2; exit 2; }

quick=0 step=0 plan=0 from="" only="" json_dir=""
lesson_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --step) step=1 ;;
    --plan) plan=1 ;;
    --from) [[ $# -ge 2 ]] || fail "--from needs a lesson number"; from="$2"; shift ;;
    --only) [[ $# -ge 2 ]] || fail "--only needs lesson numbers"; only="$2"; shift ;;
    --json) [[ $# -ge 2 ]] || fail "--json needs a folder"; json_dir="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; lesson_args=("$@"); break ;;
    *) fail "unknown option '$1'" ;;
  esac
  shift
done
[[ -z "$from" || "$from" =~ ^[0-9]{1,2}$ ]] || fail "--from takes a lesson number such as 03, not '$from'"
[[ -z "$only" || "$only" =~ ^[0-9]{1,2}(,[0-9]{1,2})*$ ]] || fail "--only takes lesson numbers such as 03 or 03,05, not '$only'"

# The lessons, in course order, narrowed by --from / --only.
selected=()
for dir in lessons/lesson[0-9][0-9]_*/; do
  name=$(basename "$dir")
  number=${name:6:2}
  if [[ -n "$from" ]] && (( 10#$number < 10#$from )); then continue; fi
  if [[ -n "$only" ]]; then
    wanted=0
    IFS=',' read -ra numbers <<< "$only"
    for n in "${numbers[@]}"; do (( 10#$n == 10#$number )) && wanted=1; done
    (( wanted )) || continue
  fi
  selected+=("$name")
done
(( ${#selected[@]} > 0 )) || fail "no lesson matches --from '${from}' --only '${only}'"

# The schedule: minutes per lesson, from the first "N minutes" in its README's speaker notes.
if (( plan )); then
  printf '%-24s %8s %10s  %s\n' "lesson" "minutes" "total" "title"
  total=0
  for name in "${selected[@]}"; do
    readme="lessons/$name/README.md"
    minutes=$(awk '/^## Speaker notes/ { on = 1; next } /^## / { on = 0 }
      on && match($0, /[0-9]+ minutes/) { print substr($0, RSTART, RLENGTH - 8); exit }' "$readme" 2>/dev/null || true)
    [[ -n "$minutes" ]] || minutes=0
    title=$(sed -n '1s/^# //p' "$readme" 2>/dev/null | tr -d '`' || true)
    total=$((total + minutes))
    printf '%-24s %8s %7d:%02d  %s\n' "$name" "$minutes" $((total / 60)) $((total % 60)) "$title"
  done
  selection=""
  [[ -n "$from" ]] && selection+=" --from $from"
  [[ -n "$only" ]] && selection+=" --only $only"
  printf 'In all: %d h %02d min for %d lesson(s). Walk it with: scripts/run-lessons.sh --step%s\n' \
    $((total / 60)) $((total % 60)) "${#selected[@]}" "$selection"
  exit 0
fi

# Build once, in the profile `cargo run` uses (optimized in this workspace).
echo "Building ${#selected[@]} lesson(s)..."
packages=()
for name in "${selected[@]}"; do packages+=(-p "$name"); done
# The slow server of the I/O lessons too, so that `cargo run -p slowserver` compiles nothing.
packages+=(-p slowserver)
# Cargo shows its progress: the first build fetches and compiles the dependencies (minutes).
cargo build --bins "${packages[@]}"
bin_dir=$(dev_bin_dir)

flags=()
(( quick )) && flags+=(--quick)
(( step )) && flags+=(--step)
if [[ -n "$json_dir" ]]; then mkdir -p "$json_dir"; fi

now() { if [[ -n "${EPOCHREALTIME:-}" ]]; then echo "${EPOCHREALTIME/,/.}"; else date +%s; fi; }

# A lesson the presenter stops with `q` exits with this status: the course ends there.
presenter_quit=3
export COURSE_PRESENTER_QUIT_STATUS=$presenter_quit
# Pauses only for a presenter at a terminal; piped or scripted runs never wait.
presenting=0
(( step )) && [[ -t 0 && -t 1 ]] && presenting=1

# One key at the pause before lesson $1 (Enter, q, s, r): sets $key.
ask() {
  local prompt="[Enter: $1 · s: skip it"
  (( ${#results[@]} > 0 )) && prompt+=" · r: the last lesson again"
  printf '\n%s · q: end the course] ' "$prompt"
  key=""
  IFS= read -rsn1 key || key=q
  echo
}

results=()
failed=0
ended=0
index=0
last=-1
while (( index < ${#selected[@]} )); do
  name=${selected[$index]}
  if (( presenting )); then
    ask "$name"
    case "$key" in
      q|Q) ended=1; break ;;
      s|S) echo "($name skipped)"; index=$((index + 1)); continue ;;
      r|R) (( last >= 0 )) && { index=$last; name=${selected[$index]}; } ;;
    esac
  fi
  echo
  start=$(now)
  status=0
  if [[ -n "$json_dir" ]]; then
    "$bin_dir/$name" ${flags[@]+"${flags[@]}"} --json ${lesson_args[@]+"${lesson_args[@]}"} > "$json_dir/$name.json" || status=$?
    echo "$name: report saved to $json_dir/$name.json"
  else
    "$bin_dir/$name" ${flags[@]+"${flags[@]}"} ${lesson_args[@]+"${lesson_args[@]}"} || status=$?
  fi
  seconds=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
  if (( status == presenter_quit )); then
    results+=("$name stopped $seconds")
    ended=1
    break
  fi
  (( status == 0 )) || failed=$((failed + 1))
  results+=("$name $status $seconds")
  last=$index
  index=$((index + 1))
done

echo
echo "Summary"
# Under --step the time is what the lesson spent on screen, pauses included.
column="seconds"
(( presenting )) && column="on screen, s"
printf '%-24s %8s %12s\n' "lesson" "status" "$column"
for row in "${results[@]+"${results[@]}"}"; do
  read -r name status seconds <<< "$row"
  label="$status"
  [[ "$status" == 0 || "$status" == stopped ]] || label="$status FAILED"
  printf '%-24s %8s %12s\n' "$name" "$label" "$seconds"
done
(( ended )) && echo "The presenter ended the course."
if (( failed > 0 )); then
  echo "$failed lesson(s) failed."
  exit 1
fi
