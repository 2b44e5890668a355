//! Normalized messages that venue decoders produce, and the [`Sink`] they hand them to.
//!
//! A decoder borrows from the frame it decodes: symbols, ids and free text are `&'a str` slices
//! of the (possibly in-place-unescaped) frame buffer, book levels are slices of a scratch buffer
//! the decoder owns. Nothing here allocates. The sink is a generic parameter of every decoder
//! (static dispatch, no `dyn` on the hot path); the feed's sink applies books and pushes ring
//! events, `cexfeed decode`'s sink prints JSON lines, tests collect into vectors.
//!
//! Timestamps: `ts_exchange_ms` is the venue's event time where the frame carries one (epoch
//! milliseconds); our receive time is stamped by the network layer, never by a decoder.

use crate::types::{Dec, Px, Qty, Side};

/// One price level: absolute quantity at a price (`qty == 0` deletes on a delta).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct Level {
    pub px: Px,
    pub qty: Qty,
}

impl Level {
    pub const fn new(px: Px, qty: Qty) -> Self {
        Level { px, qty }
    }
}

/// An identifier as the venue sent it: a JSON integer or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdRef<'a> {
    Num(u64),
    Str(&'a str),
}

impl IdRef<'_> {
    /// Numeric value where the id is an integer or an all-digit string.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            IdRef::Num(n) => Some(n),
            IdRef::Str(s) => s.parse().ok(),
        }
    }
}

impl std::fmt::Display for IdRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdRef::Num(n) => write!(f, "{n}"),
            IdRef::Str(s) => f.write_str(s),
        }
    }
}

/// A book delta (absolute quantities, levels in wire order, possibly unsorted) or a message that
/// replaces the whole book (`snapshot`: `full: true`, first `obu` push, limited-depth snapshot,
/// REST snapshot).
#[derive(Debug, Clone, Copy)]
pub struct BookMsg<'a> {
    /// Venue-native symbol (`BTC_USDT`, `BTCUSDT`); for Gate.io `obu` the pair inside `ob.<PAIR>.<N>`.
    pub symbol: &'a str,
    pub snapshot: bool,
    /// Gate.io `U` / MEXC `fromVersion`. For snapshots equal to `seq_last`.
    pub seq_first: u64,
    /// Gate.io `u` (`id`, `lastUpdateId`) / MEXC `toVersion` (`version`).
    pub seq_last: u64,
    pub bids: &'a [Level],
    pub asks: &'a [Level],
    pub ts_exchange_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
pub struct TradeMsg<'a> {
    pub symbol: &'a str,
    pub px: Px,
    /// Unsigned; for Gate.io futures the absolute contract count.
    pub qty: Qty,
    /// Taker side.
    pub side: Side,
    pub trade_id: IdRef<'a>,
    pub ts_exchange_ms: Option<i64>,
}

/// Best bid and offer. An empty side is `Px::ZERO` / `Qty::ZERO`.
#[derive(Debug, Clone, Copy)]
pub struct BboMsg<'a> {
    pub symbol: &'a str,
    pub bid_px: Px,
    pub bid_qty: Qty,
    pub ask_px: Px,
    pub ask_qty: Qty,
    /// Book update id where sent (Gate.io `u`, MEXC `version`): shared with the book's sequence.
    pub seq: Option<u64>,
    pub ts_exchange_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
pub struct TickerMsg<'a> {
    pub symbol: &'a str,
    pub last: Option<Px>,
    pub bid_px: Option<Px>,
    pub ask_px: Option<Px>,
    pub mark_px: Option<Px>,
    pub index_px: Option<Px>,
    /// Signed rate (0.0001 = 1 bp).
    pub funding_rate: Option<Px>,
    pub ts_exchange_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum OrderType {
    Limit = 1,
    PostOnly = 2,
    Ioc = 3,
    Fok = 4,
    Market = 5,
    Stop = 6,
    Other = 0,
}

impl OrderType {
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderType::Limit => "limit",
            OrderType::PostOnly => "post_only",
            OrderType::Ioc => "ioc",
            OrderType::Fok => "fok",
            OrderType::Market => "market",
            OrderType::Stop => "stop",
            OrderType::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum OrderStatus {
    New = 1,
    PartiallyFilled = 2,
    Filled = 3,
    Canceled = 4,
    PartiallyCanceled = 5,
    /// Closed for another reason (IOC/FOK expiry, STP, liquidation, …).
    Expired = 6,
    Other = 0,
}

impl OrderStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderStatus::New => "new",
            OrderStatus::PartiallyFilled => "partially_filled",
            OrderStatus::Filled => "filled",
            OrderStatus::Canceled => "canceled",
            OrderStatus::PartiallyCanceled => "partially_canceled",
            OrderStatus::Expired => "expired",
            OrderStatus::Other => "other",
        }
    }

    pub const fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Canceled
                | OrderStatus::PartiallyCanceled
                | OrderStatus::Expired
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Liquidity {
    Maker = 1,
    Taker = 2,
    Unknown = 0,
}

impl Liquidity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Liquidity::Maker => "maker",
            Liquidity::Taker => "taker",
            Liquidity::Unknown => "unknown",
        }
    }
}

/// Own order update.
#[derive(Debug, Clone, Copy)]
pub struct OrderMsg<'a> {
    pub symbol: &'a str,
    pub order_id: IdRef<'a>,
    pub client_id: Option<&'a str>,
    pub side: Side,
    pub order_type: OrderType,
    pub px: Px,
    /// Original quantity, unsigned.
    pub qty: Qty,
    pub filled: Qty,
    pub remaining: Qty,
    /// Average fill price as the venue computed it (exact, many digits).
    pub avg_px: Dec,
    pub status: OrderStatus,
    pub ts_create_ms: Option<i64>,
    pub ts_update_ms: Option<i64>,
}

/// Own trade (fill).
#[derive(Debug, Clone, Copy)]
pub struct FillMsg<'a> {
    pub symbol: &'a str,
    pub trade_id: IdRef<'a>,
    pub order_id: IdRef<'a>,
    pub client_id: Option<&'a str>,
    pub px: Px,
    pub qty: Qty,
    pub side: Side,
    pub liquidity: Liquidity,
    /// Signed (rebates are negative); exact as sent.
    pub fee: Dec,
    pub fee_currency: Option<&'a str>,
    pub ts_exchange_ms: Option<i64>,
}

/// Balance of one asset after a change.
#[derive(Debug, Clone, Copy)]
pub struct BalanceMsg<'a> {
    pub asset: &'a str,
    /// Exact as sent (venues compute balances with many digits).
    pub available: Dec,
    /// Locked / frozen in open orders.
    pub locked: Dec,
    pub total: Option<Dec>,
    /// Signed change that produced this balance, where sent.
    pub change: Option<Dec>,
    /// Venue's reason (`order-create`, `ENTRUST`, `fee`, …) where sent.
    pub reason: Option<&'a str>,
    pub ts_exchange_ms: Option<i64>,
}

/// Futures position.
#[derive(Debug, Clone, Copy)]
pub struct PositionMsg<'a> {
    pub contract: &'a str,
    /// Signed contracts: positive long, negative short.
    pub size: Qty,
    /// Average entry price (venue-computed, exact as sent).
    pub entry_px: Dec,
    /// 0 = cross margin (Gate.io).
    pub leverage: Dec,
    pub margin: Dec,
    pub liq_px: Dec,
    pub realised_pnl: Dec,
    pub ts_exchange_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlKind {
    /// Subscribe / unsubscribe accepted.
    Ack,
    Pong,
    /// Subscription refused (MEXC `Not Subscribed successfully! … Blocked!`).
    Rejected,
    /// Error object (Gate.io `error: {code, message}`), authentication failure included.
    Error,
}

impl ControlKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ControlKind::Ack => "ack",
            ControlKind::Pong => "pong",
            ControlKind::Rejected => "rejected",
            ControlKind::Error => "error",
        }
    }
}

/// A control frame: acks, pongs, rejections, errors.
#[derive(Debug, Clone, Copy)]
pub struct ControlMsg<'a> {
    pub kind: ControlKind,
    /// Channel (Gate.io) or echoed channel list (MEXC `msg` on acks).
    pub channel: Option<&'a str>,
    /// Gate.io `event` (`subscribe`/`unsubscribe`) where sent.
    pub event: Option<&'a str>,
    /// Error text or MEXC `msg`.
    pub message: Option<&'a str>,
    /// Request id echoed by the venue.
    pub req_id: Option<u64>,
    /// Venue error code (Gate.io `error.code`: 4 = authentication failure).
    pub code: Option<i64>,
    /// Gate.io: the subscribe payload echoed in the ack (first element), e.g. the pair.
    pub payload0: Option<&'a str>,
}

/// Receiver of decoded messages. Generic parameter of every decoder: static dispatch only.
/// Every method has an empty default so a sink implements only what it consumes.
pub trait Sink {
    fn book(&mut self, _m: &BookMsg<'_>) {}
    fn trade(&mut self, _m: &TradeMsg<'_>) {}
    fn bbo(&mut self, _m: &BboMsg<'_>) {}
    fn ticker(&mut self, _m: &TickerMsg<'_>) {}
    fn order(&mut self, _m: &OrderMsg<'_>) {}
    fn fill(&mut self, _m: &FillMsg<'_>) {}
    fn balance(&mut self, _m: &BalanceMsg<'_>) {}
    fn position(&mut self, _m: &PositionMsg<'_>) {}
    fn control(&mut self, _m: &ControlMsg<'_>) {}
}

/// Hot-path decode failure. `Copy`, no heap; the action is always "count, skip, carry on"
/// (a book gap, not a decode error, is what triggers a resync).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Not valid JSON / protobuf framing.
    Malformed,
    /// Ended in the middle of a value or field.
    Truncated,
    /// A required field is absent.
    MissingField(&'static str),
    /// A field has the wrong JSON/protobuf type.
    WrongType(&'static str),
    /// A decimal field failed exact parsing.
    Number(&'static str, crate::types::NumError),
    /// More levels (or bytes) than the decoder's fixed scratch holds.
    TooLarge,
    /// A well-formed message on a channel this decoder does not handle.
    UnknownChannel,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Malformed => f.write_str("malformed frame"),
            DecodeError::Truncated => f.write_str("truncated frame"),
            DecodeError::MissingField(k) => write!(f, "missing field `{k}`"),
            DecodeError::WrongType(k) => write!(f, "wrong type for field `{k}`"),
            DecodeError::Number(k, e) => write!(f, "field `{k}`: {e}"),
            DecodeError::TooLarge => f.write_str("frame exceeds decoder capacity"),
            DecodeError::UnknownChannel => f.write_str("unknown channel"),
        }
    }
}

impl std::error::Error for DecodeError {}
