#!/usr/bin/env bash
# tools/fuzz.sh: long coverage-guided fuzz runs of every target in fuzz/ (cargo fuzz, libFuzzer).
#
# Installs cargo-fuzz if missing (crates.io) and uses the nightly toolchain when rustup has one,
# else the stable one with RUSTC_BOOTSTRAP=1 (the sanitizer flags cargo fuzz passes need it).
# Runs the targets one after another, each for the given time, with its corpus kept in
# fuzz/corpus/<target> (seeded from tests/fixtures for the decoders). A crash stops the script
# with libFuzzer's report; the input is in fuzz/artifacts/<target>/. Exits 0 if none crashed.
#
#   tools/fuzz.sh                          # every target, 10 minutes each
#   tools/fuzz.sh -t 3600 ws_read          # one target for an hour
#   JOBS=2 tools/fuzz.sh -t 600            # libFuzzer jobs per target (default 1)
#
# The same entry points run on stable in the default test suite through proptest
# (tests/decode/*fuzz_smoke.rs, src/net/fuzzing.rs), about a second each.
set -euo pipefail

secs=600
while [ $# -gt 0 ]; do
    case "$1" in
        -t) secs="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        -*) echo "unknown option $1 (see -h)" >&2; exit 2 ;;
        *) break ;;
    esac
done
cd "$(dirname "$0")/../fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    export RUSTC_BOOTSTRAP=1
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo "${toolchain[@]}" fuzz list)
fi

seed() { # corpus seeds: the published frames the decoders are tested with
    local dir="corpus/$1"
    mkdir -p "$dir"
    case "$1" in
        gateio_decode) cp ../tests/fixtures/gateio_*.json "$dir"/ 2>/dev/null || true ;;
        mexc_decode) cp ../tests/fixtures/mexc_*.bin "$dir"/ 2>/dev/null || true ;;
        mexc_control) cp ../tests/fixtures/mexc_spot_{pong,subscribe_ack}.json "$dir"/ 2>/dev/null || true ;;
        account_rest) cp seeds/account_rest/*.json "$dir"/ ;;
    esac
}

for t in "${targets[@]}"; do
    seed "$t"
    echo "== $t: ${secs}s"
    par=()
    if [ "${JOBS:-1}" -gt 1 ]; then par=(-jobs="$JOBS" -workers="$JOBS"); fi
    # The venue serves each input on its own connection thread, still running when libFuzzer
    # compares allocations after the input: LeakSanitizer then reports that thread's buffers
    # (seen: 91 bytes, not reproducible on the saved input). Leak checks off for that target.
    if [ "$t" = venue_request ]; then par+=(-detect_leaks=0); fi
    cargo "${toolchain[@]}" fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$secs" -max_len=65536 "${par[@]}" -print_final_stats=1 2>&1 | grep -E '^(stat::|#[0-9]+.*DONE|==|SUMMARY|Done)|panicked|ERROR' || true
    if ls "artifacts/$t"/crash-* >/dev/null 2>&1; then
        echo "$t: crash inputs in fuzz/artifacts/$t/" >&2
        exit 1
    fi
done
echo "no crashes"
