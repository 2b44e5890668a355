"""ccxt.pro watch_order_book against the cexfeed loopback venue (run by tools/ccxt-bench.sh).

Points ccxt's `urls` at the venue (WebSocket and REST), trusts the venue's CA through ccxt's
`ssl_context` (verification stays on), hands ccxt the one market it watches (the venue does not
serve the market lists), and prints per order book returned to the caller
"<nonce> <time.monotonic_ns()>" (CLOCK_MONOTONIC, the clock the venue stamps its send instants
with). The nonce is the book's last version (Gate `u`, MEXC `toVersion`).
"""
import argparse
import asyncio
import re
import ssl
import sys
import time

import ccxt.pro as ccxtpro


def market(exchange, kind, symbol):
    base, rest = symbol.split("/")
    quote = rest.split(":")[0]
    swap = kind == "swap"
    mid = (base + "_" + quote) if exchange == "gate" else (base + quote)
    return {
        "id": mid,
        "symbol": symbol,
        "base": base,
        "quote": quote,
        "settle": quote if swap else None,
        "baseId": base,
        "quoteId": quote,
        "settleId": quote.lower() if swap else None,
        "type": "swap" if swap else "spot",
        "spot": not swap,
        "margin": False,
        "swap": swap,
        "future": False,
        "option": False,
        "contract": swap,
        "linear": True if swap else None,
        "inverse": False if swap else None,
        "contractSize": 1.0 if swap else None,
        "active": True,
        "precision": {"amount": 0.0001, "price": 0.01},
        "limits": {"amount": {"min": None, "max": None}, "price": {"min": None, "max": None},
                   "cost": {"min": None, "max": None}, "leverage": {"min": None, "max": None}},
        "info": {},
    }


def point_urls(node, rest):
    """Every https:// REST base in ccxt's url table → the venue (path kept)."""
    if isinstance(node, dict):
        return {k: point_urls(v, rest) for k, v in node.items()}
    if isinstance(node, str) and node.startswith("https://"):
        return re.sub(r"^https://[^/]+", rest, node)
    return node


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exchange", required=True, choices=["gate", "mexc"])
    ap.add_argument("--market", required=True, choices=["spot", "swap"])
    ap.add_argument("--symbol", required=True)
    ap.add_argument("--ws", required=True)
    ap.add_argument("--rest", required=True)
    ap.add_argument("--ca")
    ap.add_argument("--snapshot-delay", type=int, default=None,
                    help="pushes ccxt caches before fetching the REST snapshot")
    a = ap.parse_args()

    ex = getattr(ccxtpro, a.exchange)({"enableRateLimit": False})
    ex.urls["api"] = point_urls(ex.urls["api"], a.rest.rstrip("/"))
    if a.exchange == "gate":
        if a.market == "spot":
            ex.urls["api"]["spot"] = a.ws
        else:
            ex.urls["api"]["swap"]["usdt"] = a.ws
        params, limit = ({}, None) if a.market == "spot" else ({"interval": "20ms"}, 20)
    else:
        ex.urls["api"]["ws"]["spot"] = a.ws
        params, limit = {"frequency": "10ms"}, None
    if a.ws.startswith("wss://"):
        # The venue's CA, for the loopback venue only (verification stays on).
        ex.ssl_context = ssl.create_default_context(cafile=a.ca)
    ex.set_markets([market(a.exchange, a.market, a.symbol)])
    if a.snapshot_delay is not None:
        # ccxt caches `snapshotDelay` pushes (MEXC 25, Gate 10) before it fetches the REST
        # snapshot, sized for a push every 10-100 ms. The venue pushes every change (0.1 ms
        # apart at 10k/s), and MEXC's REST lastUpdateId may be up to 100 ms old (the last
        # complete window, protocols.md 1.6), so 25 pushes would be older than the snapshot
        # ("nonce is behind the cache"): keep the same ~250 ms of pushes instead.
        ex.options.setdefault("watchOrderBook", {})["snapshotDelay"] = a.snapshot_delay

    out = []
    last_flush = time.monotonic()
    first = True
    try:
        while True:
            ob = await ex.watch_order_book(a.symbol, limit, params)
            t = time.monotonic_ns()
            nonce = ob.get("nonce")
            if nonce is not None:
                out.append("%d %d\n" % (nonce, t))
            if first:
                print("ccxt %s watching %s on %s" % (ccxtpro.__version__ if hasattr(ccxtpro, "__version__") else "",
                                                      a.symbol, a.ws), file=sys.stderr)
                first = False
            now = time.monotonic()
            if now - last_flush > 0.05:
                sys.stdout.write("".join(out))
                sys.stdout.flush()
                out.clear()
                last_flush = now
    finally:
        sys.stdout.write("".join(out))
        sys.stdout.flush()
        await ex.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
