//! The REFERENCE decoder of MEXC binary pushes (test and bench support, not library code): prost
//! message definitions of the push schema, and [`decode_reference`], which decodes with prost into
//! owned structs and maps them to events by the same rules as the walker
//! (`src/exchange/mexc/{public,private}.rs`), written independently from the public API.
//! Self-contained (the fuzz crate includes this file by `#[path]`).
//!
//! Written by hand from the official `.proto` files (`mexcdevelop/websocket-proto`, HEAD
//! `7b8ac7a`, 2026-06-17, protocols.md §1.5), including the fields added by the 2026-06 commit
//! (marked †). No protoc. Used by tests (differential checks against the field walker, and to
//! encode frames for bodies with no published binary sample) and as the benchmark baseline.
//! Decoding with these types allocates a `String` per text field and a `Vec` per repeated field.
//!
//! Example (real capture, `tests/fixtures/mexc_spot_aggre_bookticker.frame.hex`):
//! `0A 34 "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT" 1A 07 "BTCUSDT" 30 <sendTime>
//!  DA 13 3B { 0A "84270" 12 "0.006387" 1A "84270.01" 22 "5.42169969" 2A "82164153436" 30 <t> }`

#![allow(missing_docs, dead_code)]

use cexfeed::event::{
    BalanceMsg, BboMsg, BookMsg, DecodeError, FillMsg, IdRef, KlineMsg, Level, OrderMsg, Sink,
    TickerMsg, TradeMsg,
};
use cexfeed::exchange::mexc::{liquidity, order_status, order_type, trade_side, MexcDecoder};
use cexfeed::types::{Dec, Interval, NumError, Px, Qty};

/// `PushDataV3ApiWrapper`: one binary WebSocket frame.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PushDataV3ApiWrapper {
    #[prost(string, tag = "1")]
    pub channel: String,
    #[prost(string, optional, tag = "3")]
    pub symbol: Option<String>,
    #[prost(string, optional, tag = "4")]
    pub symbol_id: Option<String>,
    #[prost(int64, optional, tag = "5")]
    pub create_time: Option<i64>,
    #[prost(int64, optional, tag = "6")]
    pub send_time: Option<i64>,
    #[prost(
        oneof = "Body",
        tags = "301, 302, 303, 304, 305, 306, 307, 308, 309, 310, 311, 312, 313, 314, 315"
    )]
    pub body: Option<Body>,
}

/// `oneof body` of the wrapper.
#[allow(clippy::large_enum_variant)] // reference types: shape follows the schema, not the heap
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Body {
    #[prost(message, tag = "301")]
    PublicDeals(PublicDealsV3Api),
    #[prost(message, tag = "302")]
    PublicIncreaseDepths(PublicIncreaseDepthsV3Api),
    #[prost(message, tag = "303")]
    PublicLimitDepths(PublicLimitDepthsV3Api),
    #[prost(message, tag = "304")]
    PrivateOrders(PrivateOrdersV3Api),
    #[prost(message, tag = "305")]
    PublicBookTicker(PublicBookTickerV3Api),
    #[prost(message, tag = "306")]
    PrivateDeals(PrivateDealsV3Api),
    #[prost(message, tag = "307")]
    PrivateAccount(PrivateAccountV3Api),
    #[prost(message, tag = "308")]
    PublicSpotKline(PublicSpotKlineV3Api),
    #[prost(message, tag = "309")]
    PublicMiniTicker(PublicMiniTickerV3Api),
    #[prost(message, tag = "310")]
    PublicMiniTickers(PublicMiniTickersV3Api),
    #[prost(message, tag = "311")]
    PublicBookTickerBatch(PublicBookTickerBatchV3Api),
    #[prost(message, tag = "312")]
    PublicIncreaseDepthsBatch(PublicIncreaseDepthsBatchV3Api),
    #[prost(message, tag = "313")]
    PublicAggreDepths(PublicAggreDepthsV3Api),
    #[prost(message, tag = "314")]
    PublicAggreDeals(PublicAggreDealsV3Api),
    #[prost(message, tag = "315")]
    PublicAggreBookTicker(PublicAggreBookTickerV3Api),
}

/// Price level item shared in shape by the aggre, limit and increase depth messages.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DepthItem {
    #[prost(string, tag = "1")]
    pub price: String,
    #[prost(string, tag = "2")]
    pub quantity: String,
}

/// 313 `PublicAggreDepthsV3Api` (diff depth).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicAggreDepthsV3Api {
    #[prost(message, repeated, tag = "1")]
    pub asks: Vec<DepthItem>,
    #[prost(message, repeated, tag = "2")]
    pub bids: Vec<DepthItem>,
    #[prost(string, tag = "3")]
    pub event_type: String,
    #[prost(string, tag = "4")]
    pub from_version: String,
    #[prost(string, tag = "5")]
    pub to_version: String,
    /// †
    #[prost(int64, tag = "6")]
    pub last_order_create_time: i64,
}

/// 303 `PublicLimitDepthsV3Api` (top-N snapshot).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicLimitDepthsV3Api {
    #[prost(message, repeated, tag = "1")]
    pub asks: Vec<DepthItem>,
    #[prost(message, repeated, tag = "2")]
    pub bids: Vec<DepthItem>,
    #[prost(string, tag = "3")]
    pub event_type: String,
    #[prost(string, tag = "4")]
    pub version: String,
    /// †
    #[prost(int64, tag = "5")]
    pub last_order_create_time: i64,
}

/// 302 `PublicIncreaseDepthsV3Api` (legacy).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicIncreaseDepthsV3Api {
    #[prost(message, repeated, tag = "1")]
    pub asks: Vec<DepthItem>,
    #[prost(message, repeated, tag = "2")]
    pub bids: Vec<DepthItem>,
    #[prost(string, tag = "3")]
    pub event_type: String,
    #[prost(string, tag = "4")]
    pub version: String,
}

/// 312 `PublicIncreaseDepthsBatchV3Api` (hidden in the docs).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicIncreaseDepthsBatchV3Api {
    #[prost(message, repeated, tag = "1")]
    pub items: Vec<PublicIncreaseDepthsV3Api>,
    #[prost(string, tag = "2")]
    pub event_type: String,
}

/// Item of 314 `PublicAggreDealsV3Api`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicAggreDealsV3ApiItem {
    #[prost(string, tag = "1")]
    pub price: String,
    #[prost(string, tag = "2")]
    pub quantity: String,
    #[prost(int32, tag = "3")]
    pub trade_type: i32,
    #[prost(int64, tag = "4")]
    pub time: i64,
    /// †
    #[prost(string, tag = "5")]
    pub trade_id: String,
}

/// 314 `PublicAggreDealsV3Api`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicAggreDealsV3Api {
    #[prost(message, repeated, tag = "1")]
    pub deals: Vec<PublicAggreDealsV3ApiItem>,
    #[prost(string, tag = "2")]
    pub event_type: String,
}

/// Item of 301 `PublicDealsV3Api` (legacy).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicDealsV3ApiItem {
    #[prost(string, tag = "1")]
    pub price: String,
    #[prost(string, tag = "2")]
    pub quantity: String,
    #[prost(int32, tag = "3")]
    pub trade_type: i32,
    #[prost(int64, tag = "4")]
    pub time: i64,
}

/// 301 `PublicDealsV3Api` (legacy).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicDealsV3Api {
    #[prost(message, repeated, tag = "1")]
    pub deals: Vec<PublicDealsV3ApiItem>,
    #[prost(string, tag = "2")]
    pub event_type: String,
}

/// 315 `PublicAggreBookTickerV3Api`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicAggreBookTickerV3Api {
    #[prost(string, tag = "1")]
    pub bid_price: String,
    #[prost(string, tag = "2")]
    pub bid_quantity: String,
    #[prost(string, tag = "3")]
    pub ask_price: String,
    #[prost(string, tag = "4")]
    pub ask_quantity: String,
    /// †
    #[prost(string, tag = "5")]
    pub version: String,
    /// †
    #[prost(int64, tag = "6")]
    pub last_order_create_time: i64,
}

/// 305 `PublicBookTickerV3Api` (legacy body; also the item of 311).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicBookTickerV3Api {
    #[prost(string, tag = "1")]
    pub bid_price: String,
    #[prost(string, tag = "2")]
    pub bid_quantity: String,
    #[prost(string, tag = "3")]
    pub ask_price: String,
    #[prost(string, tag = "4")]
    pub ask_quantity: String,
}

/// 311 `PublicBookTickerBatchV3Api`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicBookTickerBatchV3Api {
    #[prost(message, repeated, tag = "1")]
    pub items: Vec<PublicBookTickerV3Api>,
    /// †
    #[prost(string, tag = "2")]
    pub version: String,
    /// †
    #[prost(int64, tag = "3")]
    pub last_order_create_time: i64,
}

/// 308 `PublicSpotKlineV3Api`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicSpotKlineV3Api {
    #[prost(string, tag = "1")]
    pub interval: String,
    #[prost(int64, tag = "2")]
    pub window_start: i64,
    #[prost(string, tag = "3")]
    pub opening_price: String,
    #[prost(string, tag = "4")]
    pub closing_price: String,
    #[prost(string, tag = "5")]
    pub highest_price: String,
    #[prost(string, tag = "6")]
    pub lowest_price: String,
    #[prost(string, tag = "7")]
    pub volume: String,
    #[prost(string, tag = "8")]
    pub amount: String,
    #[prost(int64, tag = "9")]
    pub window_end: i64,
}

/// 309 `PublicMiniTickerV3Api` (also the item of 310).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicMiniTickerV3Api {
    #[prost(string, tag = "1")]
    pub symbol: String,
    #[prost(string, tag = "2")]
    pub price: String,
    #[prost(string, tag = "3")]
    pub rate: String,
    #[prost(string, tag = "4")]
    pub zoned_rate: String,
    #[prost(string, tag = "5")]
    pub high: String,
    #[prost(string, tag = "6")]
    pub low: String,
    #[prost(string, tag = "7")]
    pub volume: String,
    #[prost(string, tag = "8")]
    pub quantity: String,
    #[prost(string, tag = "9")]
    pub last_close_rate: String,
    #[prost(string, tag = "10")]
    pub last_close_zoned_rate: String,
    #[prost(string, tag = "11")]
    pub last_close_high: String,
    #[prost(string, tag = "12")]
    pub last_close_low: String,
}

/// 310 `PublicMiniTickersV3Api`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PublicMiniTickersV3Api {
    #[prost(message, repeated, tag = "1")]
    pub items: Vec<PublicMiniTickerV3Api>,
}

/// 304 `PrivateOrdersV3Api`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PrivateOrdersV3Api {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(string, tag = "2")]
    pub client_id: String,
    #[prost(string, tag = "3")]
    pub price: String,
    #[prost(string, tag = "4")]
    pub quantity: String,
    #[prost(string, tag = "5")]
    pub amount: String,
    #[prost(string, tag = "6")]
    pub avg_price: String,
    #[prost(int32, tag = "7")]
    pub order_type: i32,
    #[prost(int32, tag = "8")]
    pub trade_type: i32,
    #[prost(bool, tag = "9")]
    pub is_maker: bool,
    #[prost(string, tag = "10")]
    pub remain_amount: String,
    #[prost(string, tag = "11")]
    pub remain_quantity: String,
    #[prost(string, optional, tag = "12")]
    pub last_deal_quantity: Option<String>,
    #[prost(string, tag = "13")]
    pub cumulative_quantity: String,
    #[prost(string, tag = "14")]
    pub cumulative_amount: String,
    #[prost(int32, tag = "15")]
    pub status: i32,
    #[prost(int64, tag = "16")]
    pub create_time: i64,
    #[prost(string, optional, tag = "17")]
    pub market: Option<String>,
    #[prost(int32, optional, tag = "18")]
    pub trigger_type: Option<i32>,
    #[prost(string, optional, tag = "19")]
    pub trigger_price: Option<String>,
    #[prost(int32, optional, tag = "20")]
    pub state: Option<i32>,
    #[prost(string, optional, tag = "21")]
    pub oco_id: Option<String>,
    #[prost(string, optional, tag = "22")]
    pub route_factor: Option<String>,
    #[prost(string, optional, tag = "23")]
    pub symbol_id: Option<String>,
    #[prost(string, optional, tag = "24")]
    pub market_id: Option<String>,
    #[prost(string, optional, tag = "25")]
    pub market_currency_id: Option<String>,
    #[prost(string, optional, tag = "26")]
    pub currency_id: Option<String>,
}

/// 306 `PrivateDealsV3Api`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PrivateDealsV3Api {
    #[prost(string, tag = "1")]
    pub price: String,
    #[prost(string, tag = "2")]
    pub quantity: String,
    #[prost(string, tag = "3")]
    pub amount: String,
    #[prost(int32, tag = "4")]
    pub trade_type: i32,
    #[prost(bool, tag = "5")]
    pub is_maker: bool,
    #[prost(bool, tag = "6")]
    pub is_self_trade: bool,
    #[prost(string, tag = "7")]
    pub trade_id: String,
    #[prost(string, tag = "8")]
    pub client_order_id: String,
    #[prost(string, tag = "9")]
    pub order_id: String,
    #[prost(string, tag = "10")]
    pub fee_amount: String,
    #[prost(string, tag = "11")]
    pub fee_currency: String,
    #[prost(int64, tag = "12")]
    pub time: i64,
}

/// 307 `PrivateAccountV3Api`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PrivateAccountV3Api {
    #[prost(string, tag = "1")]
    pub vcoin_name: String,
    #[prost(string, tag = "2")]
    pub coin_id: String,
    #[prost(string, tag = "3")]
    pub balance_amount: String,
    #[prost(string, tag = "4")]
    pub balance_amount_change: String,
    #[prost(string, tag = "5")]
    pub frozen_amount: String,
    #[prost(string, tag = "6")]
    pub frozen_amount_change: String,
    #[prost(string, tag = "7")]
    pub r#type: String,
    #[prost(int64, tag = "8")]
    pub time: i64,
}

// ---------------------------------------------------------------------------------------------
// The reference mapping. Field names in errors, the order fields are checked in and the
// event layout follow protocols.md §1.5 and the walker's documented mapping table
// (`src/exchange/mexc/decode.rs`); the walker must match this on every frame prost accepts.

/// `MexcDecoder::decode_binary_reference(frame, sink)`: the prost reference with the decoder's
/// level capacity (a depth push with more levels on a side is `TooLarge`, as on the walker).
pub trait ReferenceDecode {
    fn decode_binary_reference<S: Sink>(
        &mut self,
        frame: &[u8],
        sink: &mut S,
    ) -> Result<(), DecodeError>;
}

impl ReferenceDecode for MexcDecoder {
    fn decode_binary_reference<S: Sink>(
        &mut self,
        frame: &[u8],
        sink: &mut S,
    ) -> Result<(), DecodeError> {
        decode_reference(self.max_levels(), frame, sink)
    }
}

struct Head<'a> {
    symbol: Option<&'a str>,
    create_time: Option<i64>,
    send_time: Option<i64>,
}

impl<'a> Head<'a> {
    fn symbol(&self) -> Result<&'a str, DecodeError> {
        match self.symbol {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(DecodeError::MissingField("symbol")),
        }
    }

    fn ts(&self, body_time_ms: i64) -> Option<i64> {
        if body_time_ms != 0 {
            Some(body_time_ms)
        } else {
            self.send_time.or(self.create_time)
        }
    }
}

fn px(name: &'static str, s: &str) -> Result<Px, DecodeError> {
    Px::parse(s.as_bytes()).map_err(|e| DecodeError::Number(name, e))
}

fn qty(name: &'static str, s: &str) -> Result<Qty, DecodeError> {
    Qty::parse(s.as_bytes()).map_err(|e| DecodeError::Number(name, e))
}

fn px_or_zero(name: &'static str, s: &str) -> Result<Px, DecodeError> {
    if s.is_empty() {
        Ok(Px::ZERO)
    } else {
        px(name, s)
    }
}

fn qty_or_zero(name: &'static str, s: &str) -> Result<Qty, DecodeError> {
    if s.is_empty() {
        Ok(Qty::ZERO)
    } else {
        qty(name, s)
    }
}

fn dec(name: &'static str, s: &str) -> Result<Dec, DecodeError> {
    if s.is_empty() {
        Ok(Dec::ZERO)
    } else {
        Dec::parse_signed(s.as_bytes()).map_err(|e| DecodeError::Number(name, e))
    }
}

fn opt(s: &str) -> Option<&str> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

fn version(name: &'static str, s: &str) -> Result<u64, DecodeError> {
    if s.is_empty() {
        return Err(DecodeError::MissingField(name));
    }
    let mut v: u64 = 0;
    for c in s.bytes() {
        if !c.is_ascii_digit() {
            return Err(DecodeError::Number(name, NumError::Garbage));
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((c - b'0') as u64))
            .ok_or(DecodeError::Number(name, NumError::Overflow))?;
    }
    Ok(v)
}

fn levels(items: &[DepthItem], max: usize, out: &mut Vec<Level>) -> Result<(), DecodeError> {
    for l in items {
        let level = Level::new(px("price", &l.price)?, qty("quantity", &l.quantity)?);
        if out.len() >= max {
            return Err(DecodeError::TooLarge);
        }
        out.push(level);
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn book<S: Sink>(
    head: &Head<'_>,
    max: usize,
    snapshot: bool,
    asks: &[DepthItem],
    bids: &[DepthItem],
    from: &str,
    to: &str,
    time: i64,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let symbol = head.symbol()?;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    levels(asks, max, &mut a)?;
    levels(bids, max, &mut b)?;
    let (seq_first, seq_last) = if snapshot {
        let v = version("version", to)?;
        (v, v)
    } else {
        (version("fromVersion", from)?, version("toVersion", to)?)
    };
    sink.book(&BookMsg {
        symbol,
        snapshot,
        seq_first,
        seq_last,
        bids: &b,
        asks: &a,
        ts_exchange_ms: head.ts(time),
    });
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn bbo<S: Sink>(
    symbol: &str,
    head: &Head<'_>,
    bid_price: &str,
    bid_quantity: &str,
    ask_price: &str,
    ask_quantity: &str,
    ver: &str,
    time: i64,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let m = BboMsg {
        symbol,
        bid_px: px_or_zero("bidPrice", bid_price)?,
        bid_qty: qty_or_zero("bidQuantity", bid_quantity)?,
        ask_px: px_or_zero("askPrice", ask_price)?,
        ask_qty: qty_or_zero("askQuantity", ask_quantity)?,
        seq: if ver.is_empty() {
            None
        } else {
            Some(version("version", ver)?)
        },
        ts_exchange_ms: head.ts(time),
    };
    sink.bbo(&m);
    Ok(())
}

fn ticker<S: Sink>(
    head: &Head<'_>,
    t: &PublicMiniTickerV3Api,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let symbol = if t.symbol.is_empty() {
        head.symbol()?
    } else {
        t.symbol.as_str()
    };
    let m = TickerMsg {
        symbol,
        last: if t.price.is_empty() {
            None
        } else {
            Some(px("price", &t.price)?)
        },
        bid_px: None,
        ask_px: None,
        mark_px: None,
        index_px: None,
        funding_rate: None,
        ts_exchange_ms: head.ts(0),
    };
    sink.ticker(&m);
    Ok(())
}

/// 308 → a kline, mapped from the schema independently of the walker: protocols.md §1.5
/// (seconds → ms; MEXC sends no closed flag, so closed = createTime (else sendTime) ≥
/// windowEnd × 1000).
fn kline<S: Sink>(
    head: &Head<'_>,
    k: &PublicSpotKlineV3Api,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let symbol = head.symbol()?;
    let interval = [
        ("Min1", Interval::M1),
        ("Min5", Interval::M5),
        ("Min15", Interval::M15),
        ("Min30", Interval::M30),
        ("Min60", Interval::H1),
        ("Hour4", Interval::H4),
        ("Hour8", Interval::H8),
        ("Day1", Interval::D1),
        ("Week1", Interval::W1),
        ("Month1", Interval::Mo1),
    ]
    .iter()
    .find(|(n, _)| *n == k.interval)
    .map(|(_, i)| *i)
    .ok_or(DecodeError::WrongType("interval"))?;
    let open_time_ms = k
        .window_start
        .checked_mul(1000)
        .ok_or(DecodeError::WrongType("windowStart"))?;
    let ts = head.create_time.or(head.send_time);
    let closed = k.window_end > 0
        && matches!((ts, k.window_end.checked_mul(1000)), (Some(t), Some(e)) if t >= e);
    for (name, v) in [
        ("openingPrice", &k.opening_price),
        ("closingPrice", &k.closing_price),
        ("highestPrice", &k.highest_price),
        ("lowestPrice", &k.lowest_price),
    ] {
        if v.is_empty() {
            return Err(DecodeError::MissingField(name));
        }
    }
    let m = KlineMsg {
        symbol,
        interval,
        open_time_ms,
        open: px("openingPrice", &k.opening_price)?,
        high: px("highestPrice", &k.highest_price)?,
        low: px("lowestPrice", &k.lowest_price)?,
        close: px("closingPrice", &k.closing_price)?,
        volume: qty_or_zero("volume", &k.volume)?,
        quote_volume: if k.amount.is_empty() {
            None
        } else {
            Some(qty("amount", &k.amount)?)
        },
        base_volume: None,
        closed,
        ts_exchange_ms: ts,
    };
    sink.kline(&m);
    Ok(())
}

/// Decode `frame` with prost and map it to events; `max_levels` per book side.
pub fn decode_reference<S: Sink>(
    max_levels: usize,
    frame: &[u8],
    sink: &mut S,
) -> Result<(), DecodeError> {
    use prost::Message;
    let msg = PushDataV3ApiWrapper::decode(frame).map_err(|_| DecodeError::Malformed)?;
    let head = Head {
        symbol: msg.symbol.as_deref(),
        create_time: msg.create_time,
        send_time: msg.send_time,
    };
    let Some(body) = &msg.body else {
        return Err(DecodeError::MissingField("body"));
    };
    match body {
        Body::PublicAggreDepths(b) => book(
            &head,
            max_levels,
            false,
            &b.asks,
            &b.bids,
            &b.from_version,
            &b.to_version,
            b.last_order_create_time,
            sink,
        ),
        Body::PublicLimitDepths(b) => book(
            &head,
            max_levels,
            true,
            &b.asks,
            &b.bids,
            "",
            &b.version,
            b.last_order_create_time,
            sink,
        ),
        Body::PublicAggreDeals(b) => {
            let symbol = head.symbol()?;
            for d in &b.deals {
                let m = TradeMsg {
                    symbol,
                    px: px("price", &d.price)?,
                    qty: qty("quantity", &d.quantity)?,
                    side: trade_side(d.trade_type)?,
                    trade_id: IdRef::Str(&d.trade_id),
                    ts_exchange_ms: head.ts(d.time),
                };
                sink.trade(&m);
            }
            Ok(())
        }
        Body::PublicAggreBookTicker(b) => {
            let symbol = head.symbol()?;
            bbo(
                symbol,
                &head,
                &b.bid_price,
                &b.bid_quantity,
                &b.ask_price,
                &b.ask_quantity,
                &b.version,
                b.last_order_create_time,
                sink,
            )
        }
        Body::PublicBookTickerBatch(b) => {
            let symbol = head.symbol()?;
            for i in &b.items {
                bbo(
                    symbol,
                    &head,
                    &i.bid_price,
                    &i.bid_quantity,
                    &i.ask_price,
                    &i.ask_quantity,
                    &b.version,
                    b.last_order_create_time,
                    sink,
                )?;
            }
            Ok(())
        }
        Body::PublicSpotKline(k) => kline(&head, k, sink),
        Body::PublicMiniTicker(t) => ticker(&head, t, sink),
        Body::PublicMiniTickers(b) => {
            for t in &b.items {
                ticker(&head, t, sink)?;
            }
            Ok(())
        }
        Body::PrivateOrders(o) => {
            let m = OrderMsg {
                symbol: head.symbol()?,
                order_id: IdRef::Str(&o.id),
                client_id: opt(&o.client_id),
                side: trade_side(o.trade_type)?,
                order_type: order_type(o.order_type),
                px: px_or_zero("price", &o.price)?,
                qty: qty_or_zero("quantity", &o.quantity)?,
                filled: qty_or_zero("cumulativeQuantity", &o.cumulative_quantity)?,
                remaining: qty_or_zero("remainQuantity", &o.remain_quantity)?,
                avg_px: dec("avgPrice", &o.avg_price)?,
                status: order_status(o.status),
                ts_create_ms: if o.create_time != 0 {
                    Some(o.create_time)
                } else {
                    None
                },
                ts_update_ms: head.send_time.or(head.create_time),
            };
            sink.order(&m);
            Ok(())
        }
        Body::PrivateDeals(d) => {
            let m = FillMsg {
                symbol: head.symbol()?,
                trade_id: IdRef::Str(&d.trade_id),
                order_id: IdRef::Str(&d.order_id),
                client_id: opt(&d.client_order_id),
                px: px("price", &d.price)?,
                qty: qty("quantity", &d.quantity)?,
                side: trade_side(d.trade_type)?,
                liquidity: liquidity(d.is_maker),
                fee: dec("feeAmount", &d.fee_amount)?,
                fee_currency: opt(&d.fee_currency),
                ts_exchange_ms: head.ts(d.time),
            };
            sink.fill(&m);
            Ok(())
        }
        Body::PrivateAccount(a) => {
            if a.vcoin_name.is_empty() {
                return Err(DecodeError::MissingField("vcoinName"));
            }
            let available = dec("balanceAmount", &a.balance_amount)?;
            let locked = dec("frozenAmount", &a.frozen_amount)?;
            let m = BalanceMsg {
                asset: &a.vcoin_name,
                available,
                locked,
                total: available.checked_add(locked),
                change: if a.balance_amount_change.is_empty() {
                    None
                } else {
                    Some(dec("balanceAmountChange", &a.balance_amount_change)?)
                },
                reason: opt(&a.r#type),
                ts_exchange_ms: head.ts(a.time),
            };
            sink.balance(&m);
            Ok(())
        }
        Body::PublicDeals(_)
        | Body::PublicIncreaseDepths(_)
        | Body::PublicBookTicker(_)
        | Body::PublicIncreaseDepthsBatch(_) => Ok(()),
    }
}
