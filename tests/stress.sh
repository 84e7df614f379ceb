#!/usr/bin/env bash
# The whole suite, RUNS times in a row, beside CPU hogs that leave one core free: what a shared
# machine does to it. Any failure or crash in any run makes this exit non-zero.
#   usage: tests/stress.sh [RUNS] [extra pytest arguments]     (make stress RUNS=5)
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
python=${PYTHON:-.venv/bin/python}
cores=$(nproc)
hogs=$(( cores > 1 ? cores - 1 : 1 ))
logs=${STRESS_LOGS:-out/stress}
mkdir -p "$logs"

pids=()
stop_hogs() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done; wait 2>/dev/null; }
trap stop_hogs EXIT
for _ in $(seq "$hogs"); do
    "$python" -c 'while True: pass' &
    pids+=($!)
done
echo "stress: $runs full runs beside $hogs busy process(es) on $cores cores; logs in $logs/"

failed=0
for run in $(seq "$runs"); do
    start=$(date +%s)
    "$python" -X faulthandler -m pytest -q -p no:cacheprovider "$@" >"$logs/run-$run.log" 2>&1
    code=$?
    summary=$(grep -E '^[=]* ?[0-9]+ (passed|failed)|[0-9]+ passed' "$logs/run-$run.log" | tail -1)
    grep -q "Fatal Python error" "$logs/run-$run.log" && summary="$summary (native crash)"
    echo "run $run: exit $code in $(( $(date +%s) - start )) s: ${summary:-no summary}"
    [ "$code" -eq 0 ] || failed=$((failed + 1))
done
echo "stress: $((runs - failed)) of $runs runs passed"
[ "$failed" -eq 0 ]
