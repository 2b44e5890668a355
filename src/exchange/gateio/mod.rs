//! Gate.io API v4 WebSocket protocol: spot and USDT-settled futures, public and private.
//!
//! | file | what |
//! |---|---|
//! | `urls.rs` | endpoints, the futures size header, REST snapshot URLs |
//! | `channel.rs` | [`Channel`] / [`Event`] we subscribe to; push `channel` names → kind |
//! | `subscribe.rs` | request builders (subscribe/unsubscribe, private `auth`, `login`, app-level ping) into caller-owned buffers |
//! | `auth.rs` | HMAC-SHA512 signing over the crate-wide [`Secret`] / [`Credentials`] |
//! | `rest.rs` | REST order-book snapshot body → `BookMsg` (cold path) |
//! | `account.rs` | signed account REST (open orders, my trades, balances, positions) → private events (cold path, `feed::recon`) |
//! | `wire.rs` | low-level JSON reading: simd-json tape navigation with exact number text, the scanner's byte cursor, level scratch |
//! | `decode.rs` | [`GateDecoder`]: frame → scanner or simd-json path → dispatch to the handlers below |
//! | `public.rs` | public pushes → events: the scanner (hot channels) and the general-path handlers |
//! | `private.rs` | private pushes (orders, user trades, balances, positions) → events |
//! | `control.rs` | acks, subscribe failures, channel errors, pongs, WS-API responses → `Sink::control` |
//!
//! No import cycles: `urls`, `channel`, `auth` and `wire` import no sibling; `subscribe` imports
//! `auth` and `channel`; `public`, `private`, `control` and `rest` import `wire` (and `channel`);
//! `decode` imports those. Numbers are parsed by [`crate::num`] only.
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
//! simd-json's structural index (see `wire.rs`), so `40000.4` or `1.25e-05` sent as bare JSON
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

pub mod account;
pub mod auth;
pub mod channel;
mod control;
mod decode;
mod private;
mod public;
pub mod rest;
pub mod subscribe;
pub mod urls;
mod wire;

pub use auth::{sign_channel, sign_ws_api, Secret};
pub use channel::{Channel, Event};
pub use control::{refusal, Refusal};
pub use decode::{DecodeStats, GateDecoder, SCAN_MAX_TRADES};
pub use private::{finished_as, spot_status};
pub use rest::{contract_path, decode_quanto_multiplier, decode_rest_snapshot, RestError};
pub use subscribe::{
    ping, subscribe, subscribe_private, unsubscribe, unsubscribe_private, Credentials,
};
pub use urls::{
    rest_snapshot_path, rest_snapshot_url, FUTURES_USDT_WS_URL, REST_BASE, SIZE_DECIMAL_HEADER,
    SPOT_WS_URL,
};
