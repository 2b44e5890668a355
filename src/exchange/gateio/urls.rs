//! Endpoints and REST snapshot URLs (protocols.md §3.1, §3.3, §4.1, §4.3).

use std::fmt::Write as _;

use crate::types::Market;

/// Spot WebSocket (live).
pub const SPOT_WS_URL: &str = "wss://api.gateio.ws/ws/v4/";
/// USDT-settled futures WebSocket (live).
pub const FUTURES_USDT_WS_URL: &str = "wss://fx-ws.gateio.ws/v4/ws/usdt";
/// Spot testnet.
pub const SPOT_TESTNET_WS_URL: &str = "wss://ws-testnet.gate.com/v4/ws/spot";
/// USDT futures testnet.
pub const FUTURES_USDT_TESTNET_WS_URL: &str = "wss://ws-testnet.gate.com/v4/ws/futures/usdt";
/// REST base (spot and futures).
pub const REST_BASE: &str = "https://api.gateio.ws";
/// Handshake (and REST) header that makes every futures size a decimal string. The network
/// layer adds it to every futures connection and futures REST request.
pub const SIZE_DECIMAL_HEADER: (&str, &str) = ("X-Gate-Size-Decimal", "1");

/// WebSocket URL for a market.
pub const fn ws_url(market: Market) -> &'static str {
    match market {
        Market::Spot => SPOT_WS_URL,
        Market::Futures => FUTURES_USDT_WS_URL,
    }
}

/// Path + query of the order-book snapshot, appended to `out` (cleared first):
/// spot `/api/v4/spot/order_book?currency_pair=X&limit=N&with_id=true`,
/// futures `/api/v4/futures/usdt/order_book?contract=X&limit=N&with_id=true`.
/// `limit = None` leaves the venue default. `symbol` must be a plain pair (`BTC_USDT`).
pub fn rest_snapshot_path(out: &mut String, market: Market, symbol: &str, limit: Option<u32>) {
    out.clear();
    match market {
        Market::Spot => {
            out.push_str("/api/v4/spot/order_book?currency_pair=");
        }
        Market::Futures => {
            out.push_str("/api/v4/futures/usdt/order_book?contract=");
        }
    }
    push_query_value(out, symbol);
    if let Some(l) = limit {
        let _ = write!(out, "&limit={l}");
    }
    out.push_str("&with_id=true");
}

/// Full URL (`REST_BASE` + [`rest_snapshot_path`]) into `out` (cleared first).
pub fn rest_snapshot_url(out: &mut String, market: Market, symbol: &str, limit: Option<u32>) {
    let mut path = String::new();
    rest_snapshot_path(&mut path, market, symbol, limit);
    out.clear();
    out.push_str(REST_BASE);
    out.push_str(&path);
}

/// Percent-encode anything outside `[A-Za-z0-9_.-]` (pairs are `BTC_USDT`; this only guards).
fn push_query_value(out: &mut String, v: &str) {
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_urls() {
        let mut s = String::new();
        rest_snapshot_url(&mut s, Market::Spot, "BTC_USDT", Some(100));
        assert_eq!(
            s,
            "https://api.gateio.ws/api/v4/spot/order_book?currency_pair=BTC_USDT&limit=100&with_id=true"
        );
        rest_snapshot_path(&mut s, Market::Futures, "BTC_USDT", Some(50));
        assert_eq!(
            s,
            "/api/v4/futures/usdt/order_book?contract=BTC_USDT&limit=50&with_id=true"
        );
        rest_snapshot_path(&mut s, Market::Futures, "A&B", None);
        assert_eq!(
            s,
            "/api/v4/futures/usdt/order_book?contract=A%26B&with_id=true"
        );
    }
}
