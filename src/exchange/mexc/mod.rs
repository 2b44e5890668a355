//! MEXC spot V3: protobuf pushes, JSON control frames, listen keys (protocols.md §1).
//!
//! | file | what |
//! |---|---|
//! | `urls.rs` | endpoints, limits (30 channels, 100 msg/s, 20 s ping, 24 h), REST paths |
//! | `channel.rs` | [`Channel`] names and parser, [`Interval`], [`LimitLevels`], symbol validation |
//! | `subscribe.rs` | `SUBSCRIPTION`/`UNSUBSCRIPTION`/`PING` into a reused buffer, [`OutboundLimiter`], [`SubscriptionTracker`] |
//! | `auth.rs` | HMAC-SHA256 signing, listen-key requests and responses, [`MexcApiError`] |
//! | `rest.rs` | REST depth snapshot → [`DepthSnapshot`] |
//! | `wire.rs` | allocation-free, bounds-checked protobuf field walker; wrapper head, body chunks, field conversions |
//! | `decode.rs` | [`MexcDecoder`]: binary push → pass 1 over the wrapper → dispatch by body; text → `control` |
//! | `public.rs` | depth, deals, book tickers, mini tickers → events (level scratch included) |
//! | `private.rs` | orders, fills, account → events; [`order_status`], [`order_type`], [`liquidity`] |
//! | `account.rs` | signed account REST (openOrders, myTrades, account) → private events (cold path, `feed::recon`) |
//! | `control.rs` | JSON control frames (acks, PONG, rejections, errors) → `Sink::control`, [`ack_matches`] |
//!
//! No import cycles: `channel`, `wire` and `control` import no sibling; `urls` imports
//! `channel`, `auth` imports `urls`, `rest` imports `auth`, `subscribe` imports `control`;
//! `public` and `private` import `wire`; `decode` imports those. Numbers are parsed by
//! [`crate::num`] only. The server side (push writers, ack writers, request parsing) and the
//! prost reference decoder are test support (`tests/support/mexc/`), not library code.
//!
//! Dispatch on the WebSocket opcode: binary → [`MexcDecoder::decode_binary`], text →
//! [`MexcDecoder::decode_text`] (or [`MexcDecoder::decode`] with `is_binary`).

pub mod account;
mod auth;
mod channel;
mod control;
mod decode;
mod private;
mod public;
mod rest;
mod subscribe;
mod urls;
mod wire;

pub use auth::{
    close_listen_key_request, create_listen_key_request, keepalive_listen_key_request,
    list_listen_keys_request, parse_error_body, parse_listen_key_list, parse_listen_key_response,
    sign, sign_into, signed_request, url_encode, Credentials, HttpMethod, MexcApiError,
    MexcRestError, Secret, SignedRequest, API_KEY_HEADER, DEFAULT_RECV_WINDOW_MS,
    MAX_RECV_WINDOW_MS,
};
pub use channel::{
    aggre_book_ticker_channel, aggre_deals_channel, aggre_depth_channel, limit_depth_channel,
    validate_symbol, Channel, ChannelError, Interval, LimitLevels, MAX_SYMBOL_LEN, PRIVATE_ACCOUNT,
    PRIVATE_DEALS, PRIVATE_ORDERS,
};
pub use control::{ack_matches, refusal_is_permanent, REJECT_PREFIX};
pub use decode::{body, body_kind, MexcDecoder, CONTROL_TEXT_CAPACITY};
pub use private::{liquidity, order_status, order_type};
pub use rest::{parse_depth_snapshot, DepthSnapshot};
pub use subscribe::{
    write_ping, write_subscribe, write_unsubscribe, AckOutcome, OutboundLimiter, PendingRequest,
    SubscriptionTracker, PING_REQUEST, SERVER_PING_REPLY,
};
pub use urls::{
    depth_snapshot_path, private_ws_url, DEPTH_PATH, DEPTH_SNAPSHOT_MAX_LIMIT,
    LISTEN_KEY_KEEPALIVE_INTERVAL, LISTEN_KEY_VALIDITY, MAX_CONNECTION_LIFETIME,
    MAX_OUTBOUND_MSGS_PER_SEC, MAX_SUBSCRIPTIONS_PER_CONNECTION, PING_INTERVAL, REST_BASE,
    USER_DATA_STREAM_PATH, WS_URL,
};
pub use wire::trade_side;
