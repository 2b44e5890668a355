//! Gate.io API v4 WebSocket protocol: spot and USDT-settled futures, public and private.
//!
//! * [`GateDecoder`] — every server frame → [`crate::event::Sink`], allocation-free after
//!   construction (scanner for hot pushes, simd-json tape for the rest; numbers exact from text).
//! * [`mod@subscribe`] — request builders (subscribe/unsubscribe, private `auth`, app-level ping) into
//!   caller-owned buffers.
//! * [`auth`] — HMAC-SHA512 signing over the crate-wide [`Secret`] / [`Credentials`]
//!   (`crate::secret`, re-exported here).
//! * [`urls`] — endpoints, the futures size header, REST snapshot URLs.
//! * [`rest`] — REST order-book snapshot body → `BookMsg` (cold path, serde_json).
//!
//! Protocol reference: `protocols.md` §2–§4 (envelope, auth, spot, futures).
//!
//! ## Integration
//! * Connect spot to [`SPOT_WS_URL`], futures to [`FUTURES_USDT_WS_URL`] with the
//!   [`SIZE_DECIMAL_HEADER`] on the handshake (and on futures REST). Send [`ping`](subscribe::ping())
//!   every 10–20 s; answer protocol pings.
//! * One [`GateDecoder`] per socket, `GateDecoder::new(market, max_levels)` at start-up
//!   (`max_levels` ≥ the deepest subscribed book: 400 for `ob.*.400`, 100 for
//!   `order_book_update` 100 ms). Feed every text frame to `decode(frame, &mut sink)`; on `Err`
//!   count and skip (a book gap, not a decode error, triggers a resync).
//! * Control frames arrive as `Sink::control`: `Ack` (subscribe/unsubscribe accepted; `req_id` is
//!   the request `id`, `payload0` the first payload element), `Error` (`code` = Gate error code,
//!   4 = authentication failure; for WS-API responses `code` = HTTP-like status, `payload0` = the
//!   error label), `Pong`. WS-API login success is an `Ack` on `spot.login`/`futures.login` with
//!   `payload0` = the account uid (needed as the first payload element of futures private
//!   channels).
//! * Books: `BookMsg.snapshot` is true for `full: true` pushes (first `obu` push) and for
//!   `*.order_book` snapshots; then `seq_first == seq_last == u` (or `lastUpdateId` / `id`).
//!   Deltas carry `U`/`u`. Levels are in wire order (not sorted), quantities absolute, 0 deletes.
//!   `obu` symbols are the pair (`ob.BTC_USDT.50` → `BTC_USDT`).
//! * REST snapshot: [`rest_snapshot_url`] + [`decode_rest_snapshot`] (seq = `id`).
//!
//! ## Exact numbers
//! Prices and sizes go from text to `Px`/`Qty` without `f64`. The scanner parses the bytes
//! directly. On the simd-json path, a JSON number's text is recovered from the frame through
//! simd-json's structural index (see `tape.rs`), so `40000.4` or `1.25e-05` sent as bare JSON
//! numbers parse exactly. Values that do not fit the fixed-point scale are refused
//! (`DecodeError::Number(field, TooManyDigits)`) for book, trade, BBO, ticker and order
//! prices/sizes. Venue-computed aggregates (`avg_deal_price`, `fill_price`, fees,
//! position `entry_price`/`margin`/`liq_price`/`realised_pnl`/`leverage`, balances) carry more
//! digits than those scales and are parsed exactly into [`Dec`](crate::types::Dec) (up to 38
//! significant digits; beyond that refused, never rounded).
//!
//! Example frames (from `tests/fixtures/`):
//! ```text
//! {"channel":"spot.obu","result":{"t":1747054612673,"full":true,"s":"ob.BTC_USDT.50","u":73777715168,
//!  "b":[["104027.1","509392"]],"a":[["104027.2","44617"]]},"time_ms":1747054612848}
//! {"time":1747391482,"id":1,"channel":"spot.obu","event":"subscribe","payload":["ob.BTC_USDT.400"],
//!  "error":{"code":2,"message":"Alert sub ob.BTC_USDT.400"},"result":{"status":"fail"}}
//! ```

pub mod auth;
mod decode;
mod private;
pub mod rest;
mod scan;
pub mod subscribe;
mod tape;
pub mod urls;

pub use auth::{sign_channel, sign_ws_api, Secret};
pub use decode::{DecodeStats, GateDecoder, SCAN_MAX_TRADES};
pub use private::{finished_as, spot_status};
pub use rest::{decode_rest_snapshot, RestError};
pub use subscribe::{
    ping, subscribe, subscribe_private, unsubscribe, unsubscribe_private, Channel, Credentials,
    Event,
};
pub use urls::{
    rest_snapshot_path, rest_snapshot_url, FUTURES_USDT_WS_URL, REST_BASE, SIZE_DECIMAL_HEADER,
    SPOT_WS_URL,
};
