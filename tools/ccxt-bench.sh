#!/usr/bin/env bash
# ccxt against the loopback venue, for cexfeed-bench (tools/bench): creates a virtual environment
# with ccxt and protobuf (MEXC's pushes are protobuf) from PyPI, then runs tools/ccxt-bench.py.
#
#   tools/ccxt-bench.sh --setup                       # create/refresh the venv only
#   tools/ccxt-bench.sh --exchange gate --market spot --symbol BTC/USDT \
#       --ws wss://127.0.0.1:PORT/ws/v4/ --rest https://127.0.0.1:PORT --ca /tmp/.../ca.pem
#
# The venv lives in $CEXFEED_CCXT_VENV (default: target/ccxt-venv in the repository). The script
# prints one line "<book version> <CLOCK_MONOTONIC ns>" per order book watch_order_book returned.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${CEXFEED_CCXT_VENV:-$here/../target/ccxt-venv}"
py="$venv/bin/python"
if [[ ! -x "$py" ]] || ! "$py" -c 'import ccxt.pro, google.protobuf' 2>/dev/null; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check ccxt protobuf >&2
fi
if [[ "${1:-}" == "--setup" ]]; then
    "$py" -c 'import ccxt; print("ccxt", ccxt.__version__)' >&2
    exit 0
fi
exec "$py" -u "$here/ccxt-bench.py" "$@"
