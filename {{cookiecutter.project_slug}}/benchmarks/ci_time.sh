#!/usr/bin/env bash
# Print how long `make ci` takes, target by target (goal: at most 60 s warm on 2 cores).
#
# Usage: bash benchmarks/ci_time.sh [runs]   (default 2 runs; the first one warms caches)
#
# Runs each target of the Makefile's `ci` line in order, as `make ci` does, and
# prints one row per target: wall time per run, and the CPU time (user + system)
# of the last run, which a busy machine inflates less than wall time. The core
# count and load average are printed with the figures: timings taken on a busy
# machine are not comparable. It runs in the project itself, like `make ci`, so
# models/, metrics/ and reports/ are rewritten as `make ci` rewrites them.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-2}"
targets=$(sed -n 's/^ci: \([a-z -]*\) ##.*/\1/p' Makefile)
[ -n "$targets" ] || { echo "no 'ci:' target found in the Makefile" >&2; exit 1; }
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime | sed 's/.*average[s]*: //'; }
tenths() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }
declare -A wall cpu total
load_before=$(loadavg)
TIMEFORMAT='%3R %3U %3S'
for run in $(seq 1 "$runs"); do
  for target in $targets; do
    log="$logs/$run-$target.log"
    if ! { time make --no-print-directory "$target" >"$log" 2>&1; } 2>"$logs/time"; then
      tail -n 40 "$log"
      echo "make $target failed (run $run)" >&2
      exit 1
    fi
    read -r real user sys <"$logs/time"
    wall[$run,$target]=$(( 10#${real/./} ))
    cpu[$target]=$(( 10#${user/./} + 10#${sys/./} ))
    total[$run]=$(( ${total[$run]:-0} + wall[$run,$target] ))
    total[cpu]=$(( ${total[cpu]:-0} + cpu[$target] ))
  done
  [ "$run" -lt "$runs" ] && total[cpu]=0
done
load_after=$(loadavg)

printf '%-12s' "target"
for run in $(seq 1 "$runs"); do printf '%10s' "run $run"; done
printf '%12s\n' "CPU (last)"
for target in $targets; do
  printf '%-12s' "$target"
  for run in $(seq 1 "$runs"); do printf '%8s s' "$(tenths "${wall[$run,$target]}")"; done
  printf '%10s s\n' "$(tenths "${cpu[$target]}")"
done
printf '%-12s' "make ci"
for run in $(seq 1 "$runs"); do printf '%8s s' "$(tenths "${total[$run]}")"; done
printf '%10s s\n' "$(tenths "${total[cpu]}")"
printf '\n%s cores; load average (1, 5, 15 min) before: %s; after: %s\n' \
  "$(nproc)" "$load_before" "$load_after"
