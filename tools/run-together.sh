#!/usr/bin/env bash
# Run several commands at once, each with its output kept in its own log, then print every
# log whole (in the order given) and fail naming each command that failed. Why: make ci's
# contract runs mostly wait on workers and brokers, so on two cores they finish sooner side
# by side, and their outputs must not interleave.
#
# usage: tools/run-together.sh LOG_DIR "name=command" ["name=command" ...]
set -uo pipefail

log_dir=$1
shift
mkdir -p "$log_dir"
names=()
pids=()
started=$(date +%s)

stop_all() {
    for pid in "${pids[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    wait
    exit 130
}
trap stop_all INT TERM

for spec in "$@"; do
    name=${spec%%=*}
    command=${spec#*=}
    names+=("$name")
    # setsid: each command leads its own process group, so Ctrl-C stops all it started.
    setsid bash -c "$command" >"$log_dir/$name.log" 2>&1 </dev/null &
    pids+=($!)
    echo "run-together: $name started (log: $log_dir/$name.log)"
done

failed=()
statuses=()
for index in "${!pids[@]}"; do
    wait "${pids[$index]}"
    statuses[index]=$?
done
for index in "${!names[@]}"; do
    name=${names[$index]}
    echo
    echo "================ $name (exit ${statuses[$index]}) ================"
    cat "$log_dir/$name.log"
    if [ "${statuses[$index]}" -ne 0 ]; then
        failed+=("$name")
    fi
done
echo
echo "run-together: ${#names[@]} runs in $(( $(date +%s) - started ))s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "run-together: failed: ${failed[*]}" >&2
    exit 1
fi
