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

use crate::types::{Dec, Interval, Px, Qty, Side};

/// One price level: absolute quantity at a price (`qty == 0` deletes on a delta).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct Level {
    /// Exact price, 16 decimals (`Px`).
    pub px: Px,
    /// Absolute quantity at `px` (not a change): base asset on spot, contracts on futures.
    pub qty: Qty,
}

impl Level {
    /// A level from its price and absolute quantity.
    pub const fn new(px: Px, qty: Qty) -> Self {
        Level { px, qty }
    }
}

/// An identifier as the venue sent it: a JSON integer or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdRef<'a> {
    /// Sent as a JSON integer (Gate.io public and spot own trade `id`, futures order `id`).
    Num(u64),
    /// Sent as a string, borrowed from the frame (all MEXC ids; Gate.io spot order `id`,
    /// `order_id`, futures own trade `id`).
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
    /// The message replaces the whole book (the cases above); `false`: a delta on top of it.
    pub snapshot: bool,
    /// Gate.io `U` / MEXC `fromVersion`. For snapshots equal to `seq_last`.
    pub seq_first: u64,
    /// Gate.io `u` (`id`, `lastUpdateId`) / MEXC `toVersion` (`version`).
    pub seq_last: u64,
    /// Bid levels in wire order (not sorted); borrowed from the decoder's scratch.
    pub bids: &'a [Level],
    /// Ask levels in wire order (not sorted); borrowed from the decoder's scratch.
    pub asks: &'a [Level],
    /// Venue event time, epoch ms (Gate.io `t`, REST `current`; MEXC `lastOrderCreateTime`,
    /// else the wrapper's `sendTime`/`createTime`); `None` when the frame carries none.
    pub ts_exchange_ms: Option<i64>,
}

/// A public trade (one execution; Gate.io and MEXC push only the taker side).
#[derive(Debug, Clone, Copy)]
pub struct TradeMsg<'a> {
    /// Venue-native symbol (`BTC_USDT`, `BTCUSDT`).
    pub symbol: &'a str,
    /// Exact trade price, 16 decimals.
    pub px: Px,
    /// Unsigned; for Gate.io futures the absolute contract count.
    pub qty: Qty,
    /// Taker side (Gate.io futures: the sign of `size`).
    pub side: Side,
    /// Venue trade id as sent (Gate.io integer `id`; MEXC `tradeId` string, possibly a range
    /// `a_b`).
    pub trade_id: IdRef<'a>,
    /// Execution time, epoch ms (Gate.io `create_time_ms`, fraction dropped; MEXC `time`).
    pub ts_exchange_ms: Option<i64>,
}

/// Best bid and offer. An empty side is `Px::ZERO` / `Qty::ZERO`.
#[derive(Debug, Clone, Copy)]
pub struct BboMsg<'a> {
    /// Venue-native symbol.
    pub symbol: &'a str,
    /// Best bid price (Gate.io `b`, MEXC `bidPrice`).
    pub bid_px: Px,
    /// Quantity at the best bid (Gate.io `B`, MEXC `bidQuantity`).
    pub bid_qty: Qty,
    /// Best ask price (Gate.io `a`, MEXC `askPrice`).
    pub ask_px: Px,
    /// Quantity at the best ask (Gate.io `A`, MEXC `askQuantity`).
    pub ask_qty: Qty,
    /// Book update id where sent (Gate.io `u`, MEXC `version`): shared with the book's sequence.
    pub seq: Option<u64>,
    /// Venue time, epoch ms (Gate.io `t`; MEXC `lastOrderCreateTime`, else `sendTime`).
    pub ts_exchange_ms: Option<i64>,
}

/// Ticker snapshot; a field is `None` when the venue's ticker does not carry it (MEXC mini
/// tickers carry only `last`; mark, index and funding are futures-only).
#[derive(Debug, Clone, Copy)]
pub struct TickerMsg<'a> {
    /// Venue-native symbol (Gate.io `currency_pair` / `contract`, MEXC `symbol`).
    pub symbol: &'a str,
    /// Last trade price (Gate.io `last`, MEXC `price`).
    pub last: Option<Px>,
    /// Best bid (Gate.io spot `highest_bid`).
    pub bid_px: Option<Px>,
    /// Best ask (Gate.io spot `lowest_ask`).
    pub ask_px: Option<Px>,
    /// Futures mark price (`mark_price`).
    pub mark_px: Option<Px>,
    /// Futures index price (`index_price`).
    pub index_px: Option<Px>,
    /// Signed rate (0.0001 = 1 bp).
    pub funding_rate: Option<Px>,
    /// Push time, epoch ms (Gate.io envelope `time_ms`; MEXC wrapper `sendTime`).
    pub ts_exchange_ms: Option<i64>,
}

/// A candle: the state of one interval's window as the venue pushes it (repeatedly while the
/// window is open; `closed` once it is final where the venue says so).
#[derive(Debug, Clone, Copy)]
pub struct KlineMsg<'a> {
    /// Venue-native symbol (MEXC wrapper `symbol`; Gate.io the pair after `<interval>_` in `n`).
    pub symbol: &'a str,
    /// The candle's interval (MEXC `interval`, Gate.io the prefix of `n`).
    pub interval: Interval,
    /// Window start, epoch ms (MEXC `windowStart` and Gate.io `t` are seconds, × 1000).
    pub open_time_ms: i64,
    /// Opening price (MEXC `openingPrice`, Gate.io `o`).
    pub open: Px,
    /// Highest price (MEXC `highestPrice`, Gate.io `h`).
    pub high: Px,
    /// Lowest price (MEXC `lowestPrice`, Gate.io `l`).
    pub low: Px,
    /// Closing (latest) price (MEXC `closingPrice`, Gate.io `c`).
    pub close: Px,
    /// Traded quantity in the market's size unit, as trades carry it: base asset on spot
    /// (MEXC `volume`, Gate.io spot `a`), contracts on futures (Gate.io futures `v`).
    pub volume: Qty,
    /// Traded value in the quote currency where sent (MEXC `amount`, Gate.io spot `v`).
    pub quote_volume: Option<Qty>,
    /// Gate.io futures `a` ("amount"; Gate defines `a` as the base-currency amount on spot).
    pub base_volume: Option<Qty>,
    /// The window is closed: Gate.io `w: true`; MEXC, which sends no such flag, when the push
    /// was made at or after `windowEnd` (wrapper `createTime`/`sendTime` ≥ `windowEnd` × 1000).
    /// The feed also closes a window left open once a later one starts (`FLAG_KLINE_INFERRED`).
    pub closed: bool,
    /// Push time, epoch ms (Gate.io envelope `time_ms`; MEXC wrapper `createTime`/`sendTime`).
    pub ts_exchange_ms: Option<i64>,
}

/// Order type, mapped from the venue's type and time-in-force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum OrderType {
    /// Limit order resting until cancelled (MEXC 1; Gate.io type `limit` or a priced futures
    /// order, tif `gtc`).
    Limit = 1,
    /// Maker-only: refused rather than take (MEXC 2, Gate.io tif `poc`).
    PostOnly = 2,
    /// Immediate-or-cancel (MEXC 3, Gate.io tif `ioc`).
    Ioc = 3,
    /// Fill-or-kill (MEXC 4, Gate.io tif `fok`).
    Fok = 4,
    /// Market order (MEXC 5, Gate.io `market`, or a futures order with price 0).
    Market = 5,
    /// Stop-loss / take-profit trigger order (MEXC 100).
    Stop = 6,
    /// Any other venue type (e.g. Gate.io margin `*_repay`/`*_borrow` types).
    Other = 0,
}

impl OrderType {
    /// Snake-case name (`limit`, `post_only`, …) for logs and `cexfeed decode`.
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

/// Order life-cycle state, mapped from the venue's status fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum OrderStatus {
    /// Open, nothing filled (MEXC 1; Gate.io event `put`, or open with `filled` 0).
    New = 1,
    /// Open with a partial fill (MEXC 3; Gate.io open with `filled` > 0).
    PartiallyFilled = 2,
    /// Closed fully filled (MEXC 2; Gate.io `finish_as: filled`).
    Filled = 3,
    /// Closed by a cancel, nothing filled (MEXC 4; Gate.io `cancelled`).
    Canceled = 4,
    /// Closed by a cancel after a partial fill (MEXC 5; Gate.io `cancelled` with `filled` > 0).
    PartiallyCanceled = 5,
    /// Closed for another reason (IOC/FOK expiry, STP, liquidation, …).
    Expired = 6,
    /// Unknown or not yet final (Gate.io `finish_as` `-`/`open`, an unknown event or code).
    Other = 0,
}

impl OrderStatus {
    /// Snake-case name (`new`, `partially_filled`, …) for logs and `cexfeed decode`.
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

    /// Whether the order is closed: no further updates or fills follow.
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

/// Whether an own fill added or removed liquidity (fee tier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Liquidity {
    /// Resting order was hit (MEXC `isMaker` true, Gate.io `role: maker`).
    Maker = 1,
    /// Order crossed the book (MEXC `isMaker` false, Gate.io `role: taker`).
    Taker = 2,
    /// The venue did not say (Gate.io `role` absent or unrecognized).
    Unknown = 0,
}

impl Liquidity {
    /// Lower-case name (`maker`, `taker`, `unknown`).
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
    /// Venue-native symbol (Gate.io `currency_pair` / `contract`; MEXC wrapper `symbol`).
    pub symbol: &'a str,
    /// Exchange order id as sent (Gate.io `id`, MEXC `id`).
    pub order_id: IdRef<'a>,
    /// Client order id (Gate.io `text`, MEXC `clientId`); `None` when empty or `-`.
    pub client_id: Option<&'a str>,
    /// Order side (Gate.io futures: the sign of `size`).
    pub side: Side,
    /// Type and time-in-force, mapped.
    pub order_type: OrderType,
    /// Limit price; 0 for market orders (empty or `0` on the wire).
    pub px: Px,
    /// Original quantity, unsigned.
    pub qty: Qty,
    /// Cumulative filled quantity (MEXC `cumulativeQuantity`, Gate.io spot `filled_amount`;
    /// else `qty - remaining`).
    pub filled: Qty,
    /// Quantity still open (`left`, MEXC `remainQuantity`), unsigned.
    pub remaining: Qty,
    /// Average fill price as the venue computed it (exact, many digits).
    pub avg_px: Dec,
    /// Life-cycle state, mapped.
    pub status: OrderStatus,
    /// Creation time, epoch ms (Gate.io `create_time_ms`, MEXC `createTime`; 0 → `None`).
    pub ts_create_ms: Option<i64>,
    /// Time of this update, epoch ms (Gate.io `update_time_ms` / futures `update_time`, else
    /// `finish_time_ms`; MEXC wrapper `sendTime`/`createTime`).
    pub ts_update_ms: Option<i64>,
}

/// Own trade (fill).
#[derive(Debug, Clone, Copy)]
pub struct FillMsg<'a> {
    /// Venue-native symbol.
    pub symbol: &'a str,
    /// Venue trade id as sent (Gate.io `id`, MEXC `tradeId`).
    pub trade_id: IdRef<'a>,
    /// Exchange id of the filled order, as sent (`order_id`, MEXC `orderId`).
    pub order_id: IdRef<'a>,
    /// Client order id (Gate.io `text`, MEXC `clientOrderId`); `None` when empty or `-`.
    pub client_id: Option<&'a str>,
    /// Exact fill price, 16 decimals.
    pub px: Px,
    /// Filled quantity, unsigned (contracts on futures).
    pub qty: Qty,
    /// Own side (Gate.io futures: the sign of `size`).
    pub side: Side,
    /// Maker or taker (`role`, MEXC `isMaker`).
    pub liquidity: Liquidity,
    /// Signed (rebates are negative); exact as sent.
    pub fee: Dec,
    /// Asset the fee is charged in (`fee_currency`, MEXC `feeCurrency`); `None` on Gate.io
    /// futures (always the settle currency).
    pub fee_currency: Option<&'a str>,
    /// Execution time, epoch ms (Gate.io `create_time_ms`, MEXC `time`).
    pub ts_exchange_ms: Option<i64>,
}

/// Balance of one asset after a change.
#[derive(Debug, Clone, Copy)]
pub struct BalanceMsg<'a> {
    /// Asset name as sent (Gate.io `currency`, MEXC `vcoinName`).
    pub asset: &'a str,
    /// Exact as sent (venues compute balances with many digits).
    pub available: Dec,
    /// Locked / frozen in open orders.
    pub locked: Dec,
    /// Available + locked where known (Gate.io `total` / futures `balance`, MEXC computed).
    pub total: Option<Dec>,
    /// Signed change that produced this balance, where sent.
    pub change: Option<Dec>,
    /// Venue's reason (`order-create`, `ENTRUST`, `fee`, …) where sent.
    pub reason: Option<&'a str>,
    /// Time of the change, epoch ms (Gate.io `timestamp_ms`/`time_ms`, MEXC `time`).
    pub ts_exchange_ms: Option<i64>,
}

/// Futures position.
#[derive(Debug, Clone, Copy)]
pub struct PositionMsg<'a> {
    /// Contract name (`BTC_USDT`).
    pub contract: &'a str,
    /// Signed contracts: positive long, negative short.
    pub size: Qty,
    /// Average entry price (venue-computed, exact as sent).
    pub entry_px: Dec,
    /// 0 = cross margin (Gate.io).
    pub leverage: Dec,
    /// Position margin in the settle currency (`margin`); 0 when absent.
    pub margin: Dec,
    /// Liquidation price (`liq_price`); 0 when absent or none.
    pub liq_px: Dec,
    /// Realised PnL of the position in the settle currency (`realised_pnl`); 0 when absent.
    pub realised_pnl: Dec,
    /// Update time, epoch ms (`time_ms`).
    pub ts_exchange_ms: Option<i64>,
}

/// What a control frame says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlKind {
    /// Subscribe / unsubscribe accepted.
    Ack,
    /// Answer to our application-level ping (MEXC `PONG`, Gate.io `*.pong`).
    Pong,
    /// Subscription refused (MEXC `Not Subscribed successfully! … Blocked!`).
    Rejected,
    /// Error object (Gate.io `error: {code, message}`), authentication failure included.
    Error,
    /// An informational frame from the venue, not data and not an error (Gate.io
    /// `spot.system` / `futures.system`: `payload0` = `result.type`, e.g. `upgrade`,
    /// `message` = `result.msg`).
    Notice,
    /// A ping sent by the venue (MEXC `{"method":"PING"}`, any letter case): the feed answers
    /// it (`{"method":"PONG"}`); never a decode error.
    Ping,
}

impl ControlKind {
    /// Lower-case name (`ack`, `pong`, `rejected`, `error`, `ping`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ControlKind::Ack => "ack",
            ControlKind::Pong => "pong",
            ControlKind::Rejected => "rejected",
            ControlKind::Error => "error",
            ControlKind::Notice => "notice",
            ControlKind::Ping => "ping",
        }
    }
}

/// A control frame: acks, pongs, rejections, errors.
#[derive(Debug, Clone, Copy)]
pub struct ControlMsg<'a> {
    /// Ack, pong, rejection or error.
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
    /// A book delta or snapshot; the borrowed levels are valid for this call only.
    fn book(&mut self, _m: &BookMsg<'_>) {}
    /// A public trade.
    fn trade(&mut self, _m: &TradeMsg<'_>) {}
    /// A best bid/offer update.
    fn bbo(&mut self, _m: &BboMsg<'_>) {}
    /// A ticker update.
    fn ticker(&mut self, _m: &TickerMsg<'_>) {}
    /// An own order update (private stream).
    fn order(&mut self, _m: &OrderMsg<'_>) {}
    /// An own fill (private stream).
    fn fill(&mut self, _m: &FillMsg<'_>) {}
    /// An asset balance after a change (private stream).
    fn balance(&mut self, _m: &BalanceMsg<'_>) {}
    /// A futures position update (private stream).
    fn position(&mut self, _m: &PositionMsg<'_>) {}
    /// A candle update.
    fn kline(&mut self, _m: &KlineMsg<'_>) {}
    /// An ack, pong, rejection or error frame.
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
