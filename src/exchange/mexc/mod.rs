//! MEXC spot V3: protobuf pushes, JSON control frames, listen keys (protocols.md §1).
//!
//! | file | what |
//! |---|---|
//! | `urls.rs` | endpoints, limits (30 channels, 100 msg/s, 20 s ping, 24 h), [`Channel`] names, symbol validation |
//! | `subscribe.rs` | `SUBSCRIPTION`/`UNSUBSCRIPTION`/`PING` into a reused buffer, [`OutboundLimiter`] |
//! | `walk.rs` | allocation-free, bounds-checked protobuf field walker |
//! | `decode.rs` | [`MexcDecoder`]: binary pushes (walker) and text control frames → [`crate::event`] |
//! | `control.rs` | JSON control scanner, [`ack_matches`] |
//! | `encode.rs` | binary push writers (loopback venue, replay, tests), the decoder's inverse |
//! | `wire.rs` | prost reference types of the push schema (tests, bench baseline) |
//! | `rest.rs` | REST depth snapshot → [`DepthSnapshot`] |
//! | `auth.rs` | HMAC-SHA256 signing, listen-key requests and responses, [`MexcApiError`] |
//!
//! Dispatch on the WebSocket opcode: binary → [`MexcDecoder::decode_binary`], text →
//! [`MexcDecoder::decode_text`] (or [`MexcDecoder::decode`] with `is_binary`).

mod auth;
mod control;
mod decode;
mod encode;
mod rest;
mod subscribe;
mod urls;
mod walk;
pub mod wire;

pub use auth::{
    close_listen_key_request, create_listen_key_request, keepalive_listen_key_request,
    list_listen_keys_request, parse_error_body, parse_listen_key_list, parse_listen_key_response,
    sign, sign_into, signed_request, url_encode, Credentials, HttpMethod, MexcApiError,
    MexcRestError, Secret, SignedRequest, API_KEY_HEADER, DEFAULT_RECV_WINDOW_MS,
    MAX_RECV_WINDOW_MS,
};
pub use control::{ack_matches, REJECT_PREFIX};
pub use decode::{
    body, body_kind, liquidity, order_status, order_type, trade_side, MexcDecoder,
    CONTROL_TEXT_CAPACITY,
};
pub use encode::{
    write_aggre_book_ticker, write_aggre_deals, write_aggre_depth, write_limit_depth, DealOut,
};
pub use rest::{parse_depth_snapshot, DepthSnapshot};
pub use subscribe::{
    parse_client_request, write_ack, write_blocked, write_ping, write_subscribe, write_unsubscribe,
    AckOutcome, ClientRequest, OutboundLimiter, PendingRequest, RequestMethod, SubscriptionTracker,
    PING_REQUEST, PONG_REPLY,
};
pub use urls::{
    aggre_book_ticker_channel, aggre_deals_channel, aggre_depth_channel, depth_snapshot_path,
    limit_depth_channel, private_ws_url, validate_symbol, Channel, ChannelError, Interval,
    LimitLevels, DEPTH_PATH, DEPTH_SNAPSHOT_MAX_LIMIT, LISTEN_KEY_KEEPALIVE_INTERVAL,
    LISTEN_KEY_VALIDITY, MAX_CONNECTION_LIFETIME, MAX_OUTBOUND_MSGS_PER_SEC,
    MAX_SUBSCRIPTIONS_PER_CONNECTION, MAX_SYMBOL_LEN, PING_INTERVAL, PRIVATE_ACCOUNT,
    PRIVATE_DEALS, PRIVATE_ORDERS, REST_BASE, USER_DATA_STREAM_PATH, WS_URL,
};
