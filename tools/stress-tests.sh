#!/usr/bin/env bash
# tools/stress-tests.sh: run the test suite under a CPU hog on every core.
#
# A test that passes only on a quiet machine is a flaky test. This script starts one busy
# process per core (`nproc`; killed by a trap on any exit), builds the tests once (before the
# hogs start), then runs `cargo test` N times in a row and stops at the first failure, printing
# the failing test(s) and the tail of that round's output. Exits 0 only if every round passed.
#
#   tools/stress-tests.sh                 # 10 rounds of the whole suite
#   tools/stress-tests.sh -n 3            # 3 rounds
#   tools/stress-tests.sh -- --test e2e   # extra arguments go to `cargo test`
#   HOGS=4 tools/stress-tests.sh          # hog count (default: one per core)
#
# Logs: target/stress/round-N.log (kept for the failing round).
set -euo pipefail

rounds=10
while [ $# -gt 0 ]; do
    case "$1" in
        -n) rounds="$2"; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        --) shift; break ;;
        *) echo "unknown option $1 (see -h)" >&2; exit 2 ;;
    esac
done
cd "$(dirname "$0")/.."

hogs=()
stop_hogs() {
    for p in "${hogs[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${hogs[@]}"; do wait "$p" 2>/dev/null || true; done
    hogs=()
}
trap stop_hogs EXIT
trap 'exit 130' INT TERM

echo "stress: building the tests"
cargo test --no-run "$@" >/dev/null 2>&1 || { cargo test --no-run "$@"; exit 1; }

n="${HOGS:-$(nproc)}"
for _ in $(seq "$n"); do
    ( while :; do :; done ) &
    hogs+=("$!")
done
echo "stress: $n CPU hogs running (pids ${hogs[*]})"

mkdir -p target/stress
for r in $(seq "$rounds"); do
    log="target/stress/round-$r.log"
    start=$(date +%s)
    if cargo test "$@" >"$log" 2>&1; then
        echo "stress: round $r/$rounds passed ($(( $(date +%s) - start )) s)"
        rm -f "$log"
    else
        echo "stress: round $r/$rounds FAILED ($(( $(date +%s) - start )) s); log: $log"
        grep -E "^test .* FAILED$|^    [a-z_:0-9]+$|panicked at" "$log" | head -40 || true
        echo "--- tail of $log ---"
        tail -40 "$log"
        exit 1
    fi
done
echo "stress: all $rounds rounds passed under $n CPU hogs"
