#!/usr/bin/env bash
# Print how long `make ci` takes, and where the time goes (goal: at most 60 s warm on 2 cores).
#
# Usage: bash benchmarks/ci_time.sh [runs]   (default 2 runs; the first one warms caches)
#
# Each run first times the targets of `make ci` one at a time, in the order ci.yml runs
# them as steps (`make ci-targets`): the per-target breakdown, wall time and CPU time
# (user + system; a busy machine inflates it less than wall time). Then it times
# `make ci` itself, which runs the unit tests beside the data -> train -> model chain:
# that is the figure a developer waits for. The core count and load average are
# printed with the figures: timings taken on a busy machine are not comparable. It runs
# in the project itself, like `make ci`, so models/, metrics/ and reports/ are
# rewritten as `make ci` rewrites them.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-2}"
targets=$(make --no-print-directory -s ci-targets)
[ -n "$targets" ] || { echo "make ci-targets printed no targets" >&2; exit 1; }
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime | sed 's/.*average[s]*: //'; }
# The speed of one core right now: seconds of CPU a fixed pure-Python loop takes. Shared
# and virtual machines vary by a third from one minute to the next on the same work, so
# figures are comparable only between runs whose reference times are close.
reference() {
  uv run --quiet python -c 'import time
start = time.process_time()
total = 0
for i in range(10_000_000):
    total += i * i
print(f"{time.process_time() - start:.2f} s")'
}
tenths() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
declare -A wall cpu total
TIMEFORMAT='%3R %3U %3S'
# timed NAME RUN COMMAND...: run it quietly; on failure show its tail and stop.
timed() {
  local name=$1 run=$2 real user sys
  shift 2
  if ! { time "$@" >"$logs/$run-$name.log" 2>&1; } 2>"$logs/time"; then
    tail -n 40 "$logs/$run-$name.log"
    echo "$* failed (run $run)" >&2
    exit 1
  fi
  read -r real user sys <"$logs/time"
  wall[$run,$name]=$(( 10#${real/./} ))
  cpu[$run,$name]=$(( 10#${user/./} + 10#${sys/./} ))
}

load_before=$(loadavg)
reference_before=$(reference)
for run in $(seq 1 "$runs"); do
  for target in $targets; do
    timed "$target" "$run" make --no-print-directory "$target"
    total[$run]=$(( ${total[$run]:-0} + wall[$run,$target] ))
    total[$run,cpu]=$(( ${total[$run,cpu]:-0} + cpu[$run,$target] ))
  done
  timed "make-ci" "$run" make --no-print-directory ci
done
load_after=$(loadavg)
reference_after=$(reference)

printf '%-22s' "target"
for run in $(seq 1 "$runs"); do printf '%10s' "run $run"; done
printf '%12s\n' "CPU (last)"
for target in $targets; do
  printf '%-22s' "$target"
  for run in $(seq 1 "$runs"); do printf '%8s s' "$(tenths "${wall[$run,$target]}")"; done
  printf '%10s s\n' "$(tenths "${cpu[$runs,$target]}")"
done
printf '%-22s' "one after the other"
for run in $(seq 1 "$runs"); do printf '%8s s' "$(tenths "${total[$run]}")"; done
printf '%10s s\n' "$(tenths "${total[$runs,cpu]}")"
printf '%-22s' "make ci"
for run in $(seq 1 "$runs"); do printf '%8s s' "$(tenths "${wall[$run,make-ci]}")"; done
printf '%10s s\n' "$(tenths "${cpu[$runs,make-ci]}")"
printf '\n%s cores; load average (1, 5, 15 min) before: %s; after: %s\n' \
  "$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)" "$load_before" "$load_after"
printf "a core's speed (a fixed Python loop's CPU time; less is faster) before: %s; after: %s\n" \
  "$reference_before" "$reference_after"
