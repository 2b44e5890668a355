//! Gate.io API v4 WebSocket protocol: spot and USDT-settled futures, public and private.
//!
//! * [`GateDecoder`] — every server frame → [`crate::event::Sink`], allocation-free after
//!   construction (scanner for hot pushes, simd-json tape for the rest; numbers exact from text).
//! * [`subscribe`] — request builders (subscribe/unsubscribe, private `auth`, app-level ping) into
//!   caller-owned buffers.
//! * [`auth`] — HMAC-SHA512 signing and the self-redacting [`Secret`].
//! * [`urls`] — endpoints, the futures size header, REST snapshot URLs.
//! * [`rest`] — REST order-book snapshot body → `BookMsg` (cold path, serde_json).
//!
//! Protocol reference: `protocols.md` §2–§4 (envelope, auth, spot, futures).
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
pub use decode::{GateDecoder, SCAN_MAX_TRADES};
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
