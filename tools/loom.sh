#!/usr/bin/env bash
# tools/loom.sh: model-check the SPSC ring and the book-slot pool with loom (tests/loom_ring.rs).
#
# Builds the library with `--cfg loom` (src/ring/sync.rs swaps in loom's atomics, Arc and
# cells) into its own target dir, so the normal build is not invalidated. The preemption bound
# (default 3) trades exhaustiveness for time; loom explores every interleaving within it.
#
#   tools/loom.sh                      # both models, LOOM_MAX_PREEMPTIONS=3
#   LOOM_MAX_PREEMPTIONS=4 tools/loom.sh book_slot
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg loom ${RUSTFLAGS:-}"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}"
exec cargo test --release --target-dir target/loom -p cexfeed --test loom_ring -- --nocapture "$@"
