#!/usr/bin/env bash
# tools/soak.sh: the soak test (tests/load.rs `soak_every_scenario_at_high_rate`): every
# venue scenario striking in turn at a high rate against all public feeds, books checked on
# every update, RSS sampled, books compared at the end. Release build; prints the summary line.
#
#   tools/soak.sh              # 10 minutes
#   tools/soak.sh 3600         # an hour
set -euo pipefail
cd "$(dirname "$0")/.."
export CEXFEED_SOAK_SECS="${1:-600}"
exec cargo test --release -p cexfeed --test load soak_every_scenario_at_high_rate -- --ignored --nocapture
