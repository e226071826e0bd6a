#!/usr/bin/env bash
# Print the wall time of `make train` (goal: at most 30 s on 2 cores).
#
# Usage: bash benchmarks/train_time.sh [runs]   (default 3 runs)
#
# State (MLflow store, models/, metrics/, reports/) goes to a scratch folder so
# the project's own store and committed metrics stay untouched; the first run
# also pays for creating the MLflow database, as in a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-3}"
state="$(mktemp -d)"
trap 'rm -rf "$state"' EXIT

export MLOPS_PROJECT_DIR="$state"
# The contract's data_file is relative to the project folder: the scratch one links data/.
ln -s "$PWD/data" "$state/data"
export MLOPS_CONTRACT_PATH="$PWD/config/data_contract.yaml"
export MLOPS_TRAINING_CONFIG_PATH="$PWD/config/model.yaml"
unset MLFLOW_TRACKING_URI MLOPS_TRACKING_URI

echo "make train on $(nproc) cores, $runs runs (logs in a scratch folder)"
for run in $(seq 1 "$runs"); do
  log="$state/train-$run.log"
  start=$(date +%s%N)
  if ! make --no-print-directory train >"$log" 2>&1; then
    cat "$log"
    echo "make train failed (run $run)" >&2
    exit 1
  fi
  elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  note=""
  [ "$run" -eq 1 ] && note=" (creates the MLflow store)"
  printf 'run %d: %d.%d s%s\n' "$run" $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100)) "$note"
done
