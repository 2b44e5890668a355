//! Endpoints, connection limits and REST paths (protocols.md §1.1, §1.4).

use std::time::Duration;

use super::channel::{validate_symbol, ChannelError};

/// Public (and, with `?listenKey=`, private) WebSocket endpoint.
pub const WS_URL: &str = "wss://wbs-api.mexc.com/ws";
/// REST base.
pub const REST_BASE: &str = "https://api.mexc.com";
/// REST depth snapshot path (`?symbol=<SYM>&limit=<N>`, limit default 100, max 5000).
pub const DEPTH_PATH: &str = "/api/v3/depth";
/// Listen-key lifecycle path (POST create, PUT keep-alive, DELETE close, GET list).
pub const USER_DATA_STREAM_PATH: &str = "/api/v3/userDataStream";

/// Channels per connection; more are ignored by the server.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 30;
/// Messages per second a connection may send (exceeding → disconnect, repeat → IP ban).
pub const MAX_OUTBOUND_MSGS_PER_SEC: u32 = 100;
/// Application `{"method":"PING"}` cadence (official Java demo; server idles out at 60 s).
pub const PING_INTERVAL: Duration = Duration::from_secs(20);
/// Server closes every connection at this age; reconnect before.
pub const MAX_CONNECTION_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Listen keys live 60 minutes after creation or the last keep-alive.
pub const LISTEN_KEY_VALIDITY: Duration = Duration::from_secs(60 * 60);
/// Recommended keep-alive cadence of a listen key.
pub const LISTEN_KEY_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30 * 60);
/// Largest REST depth snapshot.
pub const DEPTH_SNAPSHOT_MAX_LIMIT: u32 = 5000;
/// Private-stream URL: `wss://wbs-api.mexc.com/ws?listenKey=<key>`.
pub fn private_ws_url(listen_key: &str) -> String {
    format!("{WS_URL}?listenKey={listen_key}")
}

/// REST depth snapshot path and query, e.g. `/api/v3/depth?symbol=BTCUSDT&limit=5000`.
/// `limit` is clamped to 1..=5000.
pub fn depth_snapshot_path(symbol: &str, limit: u32) -> Result<String, ChannelError> {
    validate_symbol(symbol)?;
    let limit = limit.clamp(1, DEPTH_SNAPSHOT_MAX_LIMIT);
    Ok(format!("{DEPTH_PATH}?symbol={symbol}&limit={limit}"))
}
