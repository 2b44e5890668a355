//! Push decoder: binary `PushDataV3ApiWrapper` frames (field walker, hot path) and JSON control
//! text frames (acks, PONG, rejections; cold-ish path). Both allocate nothing per message.
//!
//! The binary path makes two passes over the wrapper's bytes and none over what it skips:
//! pass 1 walks the wrapper's top-level fields (channel, symbol, times, body location — a body is
//! stepped over by its length prefix); pass 2 walks the body it handles. Prices and sizes are
//! parsed from the string bytes straight into [`Px`]/[`Qty`].
//!
//! Protobuf semantics kept exactly as prost applies them, so the walker and the prost reference
//! ([`MexcDecoder::decode_binary_reference`]) produce the same events whenever prost accepts a
//! frame: last value wins for scalars; repeated items accumulate; repeated occurrences of the
//! same oneof body merge (a different body number in between resets it); unknown fields of wire
//! types 0/1/2/5 are skipped anywhere.
//!
//! Field → event mapping (numbers per protocols.md §1.5):
//!
//! | body | event | notes |
//! |---|---|---|
//! | 313 publicAggreDepths | [`BookMsg`] delta | `seq_first` = fromVersion, `seq_last` = toVersion |
//! | 303 publicLimitDepths | [`BookMsg`] snapshot | `seq_first` = `seq_last` = version |
//! | 314 publicAggreDeals | [`TradeMsg`] per deal | tradeType 1 buy / 2 sell (taker); tradeId (`""` if absent) |
//! | 315 publicAggreBookTicker | [`BboMsg`] | `seq` = version (None if absent); empty side = zero |
//! | 311 publicBookTickerBatch | [`BboMsg`] per item | `seq` = batch version |
//! | 309 / 310 mini ticker(s) | [`TickerMsg`] | `last` = price; symbol from the item, else the wrapper |
//! | 304 privateOrders | [`OrderMsg`] | see [`order_status`], [`order_type`] |
//! | 306 privateDeals | [`FillMsg`] | isMaker → [`Liquidity`] |
//! | 307 privateAccount | [`BalanceMsg`] | total = available + frozen |
//! | 301 302 305 308 312, unknown | nothing | skipped cleanly (`Ok`) |
//!
//! `ts_exchange_ms`: the body's own event time when non-zero (deal `time`,
//! `lastOrderCreateTime`, order `createTime`, fill/account `time`), else the wrapper's `sendTime`,
//! else its `createTime`.
//!
//! Precision: MEXC writes balances, fees and average prices with more fractional digits than
//! `Qty` (8) / `Px` (10) keep (`"21.94210356004384"`, `"0.0003998377369698171"`). Those fields
//! (avgPrice, feeAmount, balanceAmount, frozenAmount, balanceAmountChange) are parsed exactly
//! into [`Dec`] (up to 38 significant digits, else refused); prices and quantities of books,
//! trades, orders and fills stay `Px`/`Qty` and fail with `DecodeError::Number(..,
//! TooManyDigits)` rather than round.

use super::control::{self, ControlScan};
use super::walk::{Fields, Wire};
use super::wire;
use crate::event::{
    BalanceMsg, BboMsg, BookMsg, ControlKind, ControlMsg, DecodeError, FillMsg, IdRef, Level,
    Liquidity, OrderMsg, OrderStatus, OrderType, Sink, TickerMsg, TradeMsg,
};
use crate::num::parse_unsigned_swar;
use crate::types::{BookSide, Dec, NumError, Px, Qty, Side};

/// Capacity of the scratch used to unescape JSON strings in control frames.
pub const CONTROL_TEXT_CAPACITY: usize = 4096;

/// Body field numbers of the wrapper's `oneof body`.
pub mod body {
    pub const PUBLIC_DEALS: u32 = 301;
    pub const PUBLIC_INCREASE_DEPTHS: u32 = 302;
    pub const PUBLIC_LIMIT_DEPTHS: u32 = 303;
    pub const PRIVATE_ORDERS: u32 = 304;
    pub const PUBLIC_BOOK_TICKER: u32 = 305;
    pub const PRIVATE_DEALS: u32 = 306;
    pub const PRIVATE_ACCOUNT: u32 = 307;
    pub const PUBLIC_SPOT_KLINE: u32 = 308;
    pub const PUBLIC_MINI_TICKER: u32 = 309;
    pub const PUBLIC_MINI_TICKERS: u32 = 310;
    pub const PUBLIC_BOOK_TICKER_BATCH: u32 = 311;
    pub const PUBLIC_INCREASE_DEPTHS_BATCH: u32 = 312;
    pub const PUBLIC_AGGRE_DEPTHS: u32 = 313;
    pub const PUBLIC_AGGRE_DEALS: u32 = 314;
    pub const PUBLIC_AGGRE_BOOK_TICKER: u32 = 315;
}

/// MEXC push decoder. One per connection (owns the level scratch and the control-text scratch,
/// both sized at construction). Not `Sync`; cheap to keep per feed thread.
#[derive(Debug)]
pub struct MexcDecoder {
    bids: Box<[Level]>,
    asks: Box<[Level]>,
    n_bids: usize,
    n_asks: usize,
    text: String,
}

/// Wrapper fields every body may need.
#[derive(Debug, Clone, Copy, Default)]
struct Head<'a> {
    symbol: Option<&'a [u8]>,
    create_time: Option<i64>,
    send_time: Option<i64>,
}

impl<'a> Head<'a> {
    #[inline]
    fn symbol(&self) -> Result<&'a str, DecodeError> {
        match self.symbol {
            Some(b) if !b.is_empty() => utf8("symbol", b),
            _ => Err(DecodeError::MissingField("symbol")),
        }
    }

    #[inline]
    fn ts(&self, body_time_ms: i64) -> Option<i64> {
        if body_time_ms != 0 {
            Some(body_time_ms)
        } else {
            self.send_time.or(self.create_time)
        }
    }
}

/// The occurrences of one body field to merge (normally exactly one).
#[derive(Clone)]
enum Chunks<'a> {
    One(Option<&'a [u8]>),
    Many { fields: Fields<'a>, number: u32 },
}

impl<'a> Iterator for Chunks<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        match self {
            Chunks::One(c) => c.take(),
            Chunks::Many { fields, number } => loop {
                // The wrapper was fully walked without error in pass 1.
                match fields.next_field() {
                    Ok(Some((n, Wire::Len(b)))) if n == *number => return Some(b),
                    Ok(Some(_)) => continue,
                    _ => return None,
                }
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Views shared by the walker and the prost reference: both fill these from the wire, then the
// same mapping code produces the event. Text fields are raw bytes; absent = empty / zero.

#[derive(Debug, Default, Clone, Copy)]
struct DealView<'a> {
    price: &'a [u8],
    quantity: &'a [u8],
    trade_type: i32,
    time: i64,
    trade_id: &'a [u8],
}

#[derive(Debug, Default, Clone, Copy)]
struct BboView<'a> {
    bid_price: &'a [u8],
    bid_quantity: &'a [u8],
    ask_price: &'a [u8],
    ask_quantity: &'a [u8],
    version: &'a [u8],
    time: i64,
}

#[derive(Debug, Default, Clone, Copy)]
struct TickerView<'a> {
    symbol: &'a [u8],
    price: &'a [u8],
}

#[derive(Debug, Default, Clone, Copy)]
struct OrderView<'a> {
    id: &'a [u8],
    client_id: &'a [u8],
    price: &'a [u8],
    quantity: &'a [u8],
    avg_price: &'a [u8],
    order_type: i32,
    trade_type: i32,
    remain_quantity: &'a [u8],
    cumulative_quantity: &'a [u8],
    status: i32,
    create_time: i64,
}

#[derive(Debug, Default, Clone, Copy)]
struct FillView<'a> {
    price: &'a [u8],
    quantity: &'a [u8],
    trade_type: i32,
    is_maker: bool,
    trade_id: &'a [u8],
    client_order_id: &'a [u8],
    order_id: &'a [u8],
    fee_amount: &'a [u8],
    fee_currency: &'a [u8],
    time: i64,
}

#[derive(Debug, Default, Clone, Copy)]
struct AccountView<'a> {
    vcoin_name: &'a [u8],
    balance_amount: &'a [u8],
    balance_amount_change: &'a [u8],
    frozen_amount: &'a [u8],
    kind: &'a [u8],
    time: i64,
}

// ---------------------------------------------------------------------------------------------
// Field conversions.

#[inline]
fn utf8<'a>(name: &'static str, b: &'a [u8]) -> Result<&'a str, DecodeError> {
    std::str::from_utf8(b).map_err(|_| DecodeError::WrongType(name))
}

#[inline]
fn opt_utf8<'a>(name: &'static str, b: &'a [u8]) -> Result<Option<&'a str>, DecodeError> {
    if b.is_empty() {
        Ok(None)
    } else {
        utf8(name, b).map(Some)
    }
}

#[inline(always)]
fn px(name: &'static str, b: &[u8]) -> Result<Px, DecodeError> {
    parse_unsigned_swar(b, Px::DECIMALS)
        .map(Px)
        .map_err(|e| DecodeError::Number(name, e))
}

#[inline(always)]
fn qty(name: &'static str, b: &[u8]) -> Result<Qty, DecodeError> {
    parse_unsigned_swar(b, Qty::DECIMALS)
        .map(Qty)
        .map_err(|e| DecodeError::Number(name, e))
}

#[inline]
fn px_or_zero(name: &'static str, b: &[u8]) -> Result<Px, DecodeError> {
    if b.is_empty() {
        Ok(Px::ZERO)
    } else {
        px(name, b)
    }
}

#[inline]
fn qty_or_zero(name: &'static str, b: &[u8]) -> Result<Qty, DecodeError> {
    if b.is_empty() {
        Ok(Qty::ZERO)
    } else {
        qty(name, b)
    }
}

/// Venue-computed account value (average price, fee, balance, change): exact [`Dec`] from the
/// text, signed; empty → zero. Never rounded (more than 38 significant digits is an error).
fn dec(name: &'static str, b: &[u8]) -> Result<Dec, DecodeError> {
    if b.is_empty() {
        return Ok(Dec::ZERO);
    }
    Dec::parse_signed(b).map_err(|e| DecodeError::Number(name, e))
}

/// A version carried as decimal text (`"82164153436"`) → `u64`. Empty → `MissingField`.
#[inline]
fn version(name: &'static str, b: &[u8]) -> Result<u64, DecodeError> {
    if b.is_empty() {
        return Err(DecodeError::MissingField(name));
    }
    let mut v: u64 = 0;
    for &c in b {
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

/// `tradeType` 1 buy / 2 sell (taker side on public deals; order/fill side on private pushes).
#[inline]
pub fn trade_side(trade_type: i32) -> Result<Side, DecodeError> {
    match trade_type {
        1 => Ok(Side::Buy),
        2 => Ok(Side::Sell),
        _ => Err(DecodeError::WrongType("tradeType")),
    }
}

/// Order `status`: 1 new, 2 filled, 3 partially filled, 4 canceled, 5 partially canceled.
pub const fn order_status(status: i32) -> OrderStatus {
    match status {
        1 => OrderStatus::New,
        2 => OrderStatus::Filled,
        3 => OrderStatus::PartiallyFilled,
        4 => OrderStatus::Canceled,
        5 => OrderStatus::PartiallyCanceled,
        _ => OrderStatus::Other,
    }
}

/// `orderType`: 1 LIMIT, 2 POST_ONLY, 3 IOC, 4 FOK, 5 MARKET, 100 stop-loss/take-profit.
pub const fn order_type(order_type: i32) -> OrderType {
    match order_type {
        1 => OrderType::Limit,
        2 => OrderType::PostOnly,
        3 => OrderType::Ioc,
        4 => OrderType::Fok,
        5 => OrderType::Market,
        100 => OrderType::Stop,
        _ => OrderType::Other,
    }
}

/// `isMaker` → liquidity.
pub const fn liquidity(is_maker: bool) -> Liquidity {
    if is_maker {
        Liquidity::Maker
    } else {
        Liquidity::Taker
    }
}

// ---------------------------------------------------------------------------------------------
// Mapping (shared by both paths).

#[inline]
fn emit_deal<S: Sink>(
    symbol: &str,
    head: &Head<'_>,
    d: &DealView<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let m = TradeMsg {
        symbol,
        px: px("price", d.price)?,
        qty: qty("quantity", d.quantity)?,
        side: trade_side(d.trade_type)?,
        trade_id: IdRef::Str(utf8("tradeId", d.trade_id)?),
        ts_exchange_ms: head.ts(d.time),
    };
    sink.trade(&m);
    Ok(())
}

#[inline]
fn emit_bbo<S: Sink>(
    symbol: &str,
    head: &Head<'_>,
    v: &BboView<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let m = BboMsg {
        symbol,
        bid_px: px_or_zero("bidPrice", v.bid_price)?,
        bid_qty: qty_or_zero("bidQuantity", v.bid_quantity)?,
        ask_px: px_or_zero("askPrice", v.ask_price)?,
        ask_qty: qty_or_zero("askQuantity", v.ask_quantity)?,
        seq: if v.version.is_empty() {
            None
        } else {
            Some(version("version", v.version)?)
        },
        ts_exchange_ms: head.ts(v.time),
    };
    sink.bbo(&m);
    Ok(())
}

#[inline]
fn emit_ticker<S: Sink>(
    head: &Head<'_>,
    v: &TickerView<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let symbol = if v.symbol.is_empty() {
        head.symbol()?
    } else {
        utf8("symbol", v.symbol)?
    };
    let m = TickerMsg {
        symbol,
        last: if v.price.is_empty() {
            None
        } else {
            Some(px("price", v.price)?)
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

fn emit_order<S: Sink>(
    head: &Head<'_>,
    v: &OrderView<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let m = OrderMsg {
        symbol: head.symbol()?,
        order_id: IdRef::Str(utf8("id", v.id)?),
        client_id: opt_utf8("clientId", v.client_id)?,
        side: trade_side(v.trade_type)?,
        order_type: order_type(v.order_type),
        px: px_or_zero("price", v.price)?,
        qty: qty_or_zero("quantity", v.quantity)?,
        filled: qty_or_zero("cumulativeQuantity", v.cumulative_quantity)?,
        remaining: qty_or_zero("remainQuantity", v.remain_quantity)?,
        avg_px: dec("avgPrice", v.avg_price)?,
        status: order_status(v.status),
        ts_create_ms: if v.create_time != 0 {
            Some(v.create_time)
        } else {
            None
        },
        ts_update_ms: head.send_time.or(head.create_time),
    };
    sink.order(&m);
    Ok(())
}

fn emit_fill<S: Sink>(head: &Head<'_>, v: &FillView<'_>, sink: &mut S) -> Result<(), DecodeError> {
    let m = FillMsg {
        symbol: head.symbol()?,
        trade_id: IdRef::Str(utf8("tradeId", v.trade_id)?),
        order_id: IdRef::Str(utf8("orderId", v.order_id)?),
        client_id: opt_utf8("clientOrderId", v.client_order_id)?,
        px: px("price", v.price)?,
        qty: qty("quantity", v.quantity)?,
        side: trade_side(v.trade_type)?,
        liquidity: liquidity(v.is_maker),
        fee: dec("feeAmount", v.fee_amount)?,
        fee_currency: opt_utf8("feeCurrency", v.fee_currency)?,
        ts_exchange_ms: head.ts(v.time),
    };
    sink.fill(&m);
    Ok(())
}

fn emit_account<S: Sink>(
    head: &Head<'_>,
    v: &AccountView<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    if v.vcoin_name.is_empty() {
        return Err(DecodeError::MissingField("vcoinName"));
    }
    let available = dec("balanceAmount", v.balance_amount)?;
    let locked = dec("frozenAmount", v.frozen_amount)?;
    let m = BalanceMsg {
        asset: utf8("vcoinName", v.vcoin_name)?,
        available,
        locked,
        total: available.checked_add(locked),
        change: if v.balance_amount_change.is_empty() {
            None
        } else {
            Some(dec("balanceAmountChange", v.balance_amount_change)?)
        },
        reason: opt_utf8("type", v.kind)?,
        ts_exchange_ms: head.ts(v.time),
    };
    sink.balance(&m);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Walker helpers for item messages.

#[inline(always)]
fn walk_level(item: &[u8]) -> Result<(&[u8], &[u8]), DecodeError> {
    // Fast path for the canonical encoding `0A <len> price 12 <len> quantity` (short strings,
    // nothing else): exactly what the generic walk below would return for these bytes.
    if let [0x0a, lp, rest @ ..] = item {
        let lp = *lp as usize;
        if lp < 0x80 {
            if let Some((p, [0x12, lq, q @ ..])) = rest.split_at_checked(lp) {
                if (*lq as usize) == q.len() && *lq < 0x80 {
                    return Ok((p, q));
                }
            }
        }
    }
    let mut f = Fields::new(item);
    let (mut p, mut q): (&[u8], &[u8]) = (&[], &[]);
    while let Some((no, w)) = f.next_field()? {
        match no {
            1 => p = w.bytes("price")?,
            2 => q = w.bytes("quantity")?,
            _ => {}
        }
    }
    Ok((p, q))
}

#[inline]
fn walk_deal(item: &[u8]) -> Result<DealView<'_>, DecodeError> {
    let mut d = DealView::default();
    let mut f = Fields::new(item);
    while let Some((no, w)) = f.next_field()? {
        match no {
            1 => d.price = w.bytes("price")?,
            2 => d.quantity = w.bytes("quantity")?,
            3 => d.trade_type = w.varint("tradeType")? as i32,
            4 => d.time = w.varint("time")? as i64,
            5 => d.trade_id = w.bytes("tradeId")?,
            _ => {}
        }
    }
    Ok(d)
}

/// Fields 1–4 of a book ticker (aggre body or batch item) into `v`.
#[inline]
fn bbo_field<'a>(v: &mut BboView<'a>, no: u32, w: Wire<'a>) -> Result<(), DecodeError> {
    match no {
        1 => v.bid_price = w.bytes("bidPrice")?,
        2 => v.bid_quantity = w.bytes("bidQuantity")?,
        3 => v.ask_price = w.bytes("askPrice")?,
        4 => v.ask_quantity = w.bytes("askQuantity")?,
        _ => {}
    }
    Ok(())
}

#[inline]
fn walk_ticker(item: &[u8]) -> Result<TickerView<'_>, DecodeError> {
    let mut v = TickerView::default();
    let mut f = Fields::new(item);
    while let Some((no, w)) = f.next_field()? {
        match no {
            1 => v.symbol = w.bytes("symbol")?,
            2 => v.price = w.bytes("price")?,
            _ => {}
        }
    }
    Ok(v)
}

impl MexcDecoder {
    /// A decoder whose book scratch holds `max_levels` per side; a depth push with more levels
    /// on a side fails with `DecodeError::TooLarge`. Allocates here only.
    pub fn new(max_levels: usize) -> Self {
        MexcDecoder {
            bids: vec![Level::default(); max_levels].into_boxed_slice(),
            asks: vec![Level::default(); max_levels].into_boxed_slice(),
            n_bids: 0,
            n_asks: 0,
            text: String::with_capacity(CONTROL_TEXT_CAPACITY),
        }
    }

    /// Levels per side the scratch holds.
    pub fn max_levels(&self) -> usize {
        self.bids.len()
    }

    /// Decode one frame; `is_binary` is the WebSocket opcode (binary → protobuf push, text → JSON
    /// control).
    #[inline]
    pub fn decode<S: Sink>(
        &mut self,
        frame: &[u8],
        is_binary: bool,
        sink: &mut S,
    ) -> Result<(), DecodeError> {
        if is_binary {
            self.decode_binary(frame, sink)
        } else {
            self.decode_text(frame, sink)
        }
    }

    #[inline(always)]
    fn reset_levels(&mut self) {
        self.n_bids = 0;
        self.n_asks = 0;
    }

    #[inline(always)]
    fn push_level(&mut self, side: BookSide, p: &[u8], q: &[u8]) -> Result<(), DecodeError> {
        let level = Level::new(px("price", p)?, qty("quantity", q)?);
        let (buf, n) = match side {
            BookSide::Bid => (&mut self.bids, &mut self.n_bids),
            BookSide::Ask => (&mut self.asks, &mut self.n_asks),
        };
        match buf.get_mut(*n) {
            Some(slot) => {
                *slot = level;
                *n += 1;
                Ok(())
            }
            None => Err(DecodeError::TooLarge),
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn emit_book<S: Sink>(
        &self,
        symbol: &str,
        snapshot: bool,
        from: &[u8],
        to: &[u8],
        time: i64,
        head: &Head<'_>,
        sink: &mut S,
    ) -> Result<(), DecodeError> {
        let (seq_first, seq_last) = if snapshot {
            let v = version("version", to)?;
            (v, v)
        } else {
            (version("fromVersion", from)?, version("toVersion", to)?)
        };
        let m = BookMsg {
            symbol,
            snapshot,
            seq_first,
            seq_last,
            bids: &self.bids[..self.n_bids],
            asks: &self.asks[..self.n_asks],
            ts_exchange_ms: head.ts(time),
        };
        sink.book(&m);
        Ok(())
    }

    /// Decode a binary push (`PushDataV3ApiWrapper`) with the field walker. Allocation-free.
    pub fn decode_binary<S: Sink>(
        &mut self,
        frame: &[u8],
        sink: &mut S,
    ) -> Result<(), DecodeError> {
        let mut f = Fields::new(frame);
        let mut head = Head::default();
        let mut body_no = 0u32;
        let mut body: &[u8] = &[];
        let mut run_start = 0usize;
        let mut run_len = 0u32;
        loop {
            let at = f.pos();
            let Some((no, w)) = f.next_field()? else {
                break;
            };
            match no {
                1 => {
                    w.bytes("channel")?;
                }
                3 => head.symbol = Some(w.bytes("symbol")?),
                4 => {
                    w.bytes("symbolId")?;
                }
                5 => head.create_time = Some(w.varint("createTime")? as i64),
                6 => head.send_time = Some(w.varint("sendTime")? as i64),
                301..=315 => {
                    let b = w.bytes("body")?;
                    if no != body_no {
                        body_no = no;
                        body = b;
                        run_start = at;
                        run_len = 1;
                    } else {
                        run_len += 1;
                    }
                }
                _ => {}
            }
        }
        if body_no == 0 {
            return Err(DecodeError::MissingField("body"));
        }
        let chunks = if run_len == 1 {
            Chunks::One(Some(body))
        } else {
            Chunks::Many {
                fields: Fields::new(&frame[run_start..]),
                number: body_no,
            }
        };
        match body_no {
            body::PUBLIC_AGGRE_DEPTHS => self.walk_depth(chunks, &head, false, sink),
            body::PUBLIC_LIMIT_DEPTHS => self.walk_depth(chunks, &head, true, sink),
            body::PUBLIC_AGGRE_DEALS => walk_deals(chunks, &head, sink),
            body::PUBLIC_AGGRE_BOOK_TICKER => walk_bbo(chunks, &head, sink),
            body::PUBLIC_BOOK_TICKER_BATCH => walk_bbo_batch(chunks, &head, sink),
            body::PUBLIC_MINI_TICKER => walk_mini_ticker(chunks, &head, sink),
            body::PUBLIC_MINI_TICKERS => walk_mini_tickers(chunks, &head, sink),
            body::PRIVATE_ORDERS => walk_order(chunks, &head, sink),
            body::PRIVATE_DEALS => walk_fill(chunks, &head, sink),
            body::PRIVATE_ACCOUNT => walk_account(chunks, &head, sink),
            // 301, 302, 305 (retired), 308 (kline), 312 (hidden batch): not consumed.
            _ => Ok(()),
        }
    }

    #[inline]
    fn walk_depth<S: Sink>(
        &mut self,
        chunks: Chunks<'_>,
        head: &Head<'_>,
        snapshot: bool,
        sink: &mut S,
    ) -> Result<(), DecodeError> {
        let symbol = head.symbol()?;
        self.reset_levels();
        let (mut from, mut to): (&[u8], &[u8]) = (&[], &[]);
        let mut time = 0i64;
        for chunk in chunks {
            let mut f = Fields::new(chunk);
            while let Some((no, w)) = f.next_field()? {
                match (no, snapshot) {
                    (1, _) => {
                        let (p, q) = walk_level(w.bytes("asks")?)?;
                        self.push_level(BookSide::Ask, p, q)?;
                    }
                    (2, _) => {
                        let (p, q) = walk_level(w.bytes("bids")?)?;
                        self.push_level(BookSide::Bid, p, q)?;
                    }
                    (4, false) => from = w.bytes("fromVersion")?,
                    (5, false) => to = w.bytes("toVersion")?,
                    (6, false) => time = w.varint("lastOrderCreateTime")? as i64,
                    (4, true) => to = w.bytes("version")?,
                    (5, true) => time = w.varint("lastOrderCreateTime")? as i64,
                    _ => {}
                }
            }
        }
        self.emit_book(symbol, snapshot, from, to, time, head, sink)
    }

    /// Decode a JSON control text frame: ack, PONG, rejection (`Not Subscribed successfully!`,
    /// code 0) or error (non-zero code). Allocation-free (escaped text is unescaped into a
    /// scratch of [`CONTROL_TEXT_CAPACITY`] bytes).
    pub fn decode_text<S: Sink>(&mut self, frame: &[u8], sink: &mut S) -> Result<(), DecodeError> {
        let ControlScan { id, code, msg } = control::scan(frame)?;
        let msg: Option<&str> = match msg {
            None => None,
            Some((raw, false)) => {
                Some(std::str::from_utf8(raw).map_err(|_| DecodeError::Malformed)?)
            }
            Some((raw, true)) => {
                control::unescape_into(raw, &mut self.text)?;
                Some(self.text.as_str())
            }
        };
        let Some(code) = code else {
            return Err(DecodeError::MissingField("code"));
        };
        let mut m = ControlMsg {
            kind: ControlKind::Ack,
            channel: None,
            event: None,
            message: msg,
            req_id: id,
            code: Some(code),
            payload0: None,
        };
        if code != 0 {
            m.kind = ControlKind::Error;
        } else {
            let Some(text) = msg else {
                return Err(DecodeError::MissingField("msg"));
            };
            if text == "PONG" {
                m.kind = ControlKind::Pong;
            } else if let Some(chs) = control::rejected_channels(text) {
                m.kind = ControlKind::Rejected;
                m.channel = chs;
            } else {
                m.kind = ControlKind::Ack;
                m.channel = Some(text);
            }
        }
        sink.control(&m);
        Ok(())
    }

    /// The REFERENCE path: decode with prost into owned structs, then map through the same code
    /// as the walker. Allocates (one `String` per text field); for tests and benchmarks.
    pub fn decode_binary_reference<S: Sink>(
        &mut self,
        frame: &[u8],
        sink: &mut S,
    ) -> Result<(), DecodeError> {
        use prost::Message;
        use wire::Body;
        let msg = wire::PushDataV3ApiWrapper::decode(frame).map_err(|_| DecodeError::Malformed)?;
        let head = Head {
            symbol: msg.symbol.as_deref().map(str::as_bytes),
            create_time: msg.create_time,
            send_time: msg.send_time,
        };
        let Some(body) = &msg.body else {
            return Err(DecodeError::MissingField("body"));
        };
        match body {
            Body::PublicAggreDepths(b) => {
                let symbol = head.symbol()?;
                self.reset_levels();
                for l in &b.asks {
                    self.push_level(BookSide::Ask, l.price.as_bytes(), l.quantity.as_bytes())?;
                }
                for l in &b.bids {
                    self.push_level(BookSide::Bid, l.price.as_bytes(), l.quantity.as_bytes())?;
                }
                self.emit_book(
                    symbol,
                    false,
                    b.from_version.as_bytes(),
                    b.to_version.as_bytes(),
                    b.last_order_create_time,
                    &head,
                    sink,
                )
            }
            Body::PublicLimitDepths(b) => {
                let symbol = head.symbol()?;
                self.reset_levels();
                for l in &b.asks {
                    self.push_level(BookSide::Ask, l.price.as_bytes(), l.quantity.as_bytes())?;
                }
                for l in &b.bids {
                    self.push_level(BookSide::Bid, l.price.as_bytes(), l.quantity.as_bytes())?;
                }
                self.emit_book(
                    symbol,
                    true,
                    &[],
                    b.version.as_bytes(),
                    b.last_order_create_time,
                    &head,
                    sink,
                )
            }
            Body::PublicAggreDeals(b) => {
                let symbol = head.symbol()?;
                for d in &b.deals {
                    let v = DealView {
                        price: d.price.as_bytes(),
                        quantity: d.quantity.as_bytes(),
                        trade_type: d.trade_type,
                        time: d.time,
                        trade_id: d.trade_id.as_bytes(),
                    };
                    emit_deal(symbol, &head, &v, sink)?;
                }
                Ok(())
            }
            Body::PublicAggreBookTicker(b) => {
                let symbol = head.symbol()?;
                let v = BboView {
                    bid_price: b.bid_price.as_bytes(),
                    bid_quantity: b.bid_quantity.as_bytes(),
                    ask_price: b.ask_price.as_bytes(),
                    ask_quantity: b.ask_quantity.as_bytes(),
                    version: b.version.as_bytes(),
                    time: b.last_order_create_time,
                };
                emit_bbo(symbol, &head, &v, sink)
            }
            Body::PublicBookTickerBatch(b) => {
                let symbol = head.symbol()?;
                for i in &b.items {
                    let v = BboView {
                        bid_price: i.bid_price.as_bytes(),
                        bid_quantity: i.bid_quantity.as_bytes(),
                        ask_price: i.ask_price.as_bytes(),
                        ask_quantity: i.ask_quantity.as_bytes(),
                        version: b.version.as_bytes(),
                        time: b.last_order_create_time,
                    };
                    emit_bbo(symbol, &head, &v, sink)?;
                }
                Ok(())
            }
            Body::PublicMiniTicker(t) => emit_ticker(
                &head,
                &TickerView {
                    symbol: t.symbol.as_bytes(),
                    price: t.price.as_bytes(),
                },
                sink,
            ),
            Body::PublicMiniTickers(b) => {
                for t in &b.items {
                    emit_ticker(
                        &head,
                        &TickerView {
                            symbol: t.symbol.as_bytes(),
                            price: t.price.as_bytes(),
                        },
                        sink,
                    )?;
                }
                Ok(())
            }
            Body::PrivateOrders(o) => {
                let v = OrderView {
                    id: o.id.as_bytes(),
                    client_id: o.client_id.as_bytes(),
                    price: o.price.as_bytes(),
                    quantity: o.quantity.as_bytes(),
                    avg_price: o.avg_price.as_bytes(),
                    order_type: o.order_type,
                    trade_type: o.trade_type,
                    remain_quantity: o.remain_quantity.as_bytes(),
                    cumulative_quantity: o.cumulative_quantity.as_bytes(),
                    status: o.status,
                    create_time: o.create_time,
                };
                emit_order(&head, &v, sink)
            }
            Body::PrivateDeals(d) => {
                let v = FillView {
                    price: d.price.as_bytes(),
                    quantity: d.quantity.as_bytes(),
                    trade_type: d.trade_type,
                    is_maker: d.is_maker,
                    trade_id: d.trade_id.as_bytes(),
                    client_order_id: d.client_order_id.as_bytes(),
                    order_id: d.order_id.as_bytes(),
                    fee_amount: d.fee_amount.as_bytes(),
                    fee_currency: d.fee_currency.as_bytes(),
                    time: d.time,
                };
                emit_fill(&head, &v, sink)
            }
            Body::PrivateAccount(a) => {
                let v = AccountView {
                    vcoin_name: a.vcoin_name.as_bytes(),
                    balance_amount: a.balance_amount.as_bytes(),
                    balance_amount_change: a.balance_amount_change.as_bytes(),
                    frozen_amount: a.frozen_amount.as_bytes(),
                    kind: a.r#type.as_bytes(),
                    time: a.time,
                };
                emit_account(&head, &v, sink)
            }
            Body::PublicDeals(_)
            | Body::PublicIncreaseDepths(_)
            | Body::PublicBookTicker(_)
            | Body::PublicSpotKline(_)
            | Body::PublicIncreaseDepthsBatch(_) => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Walker body decoders.

#[inline]
fn walk_deals<S: Sink>(
    chunks: Chunks<'_>,
    head: &Head<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let symbol = head.symbol()?;
    for chunk in chunks {
        let mut f = Fields::new(chunk);
        while let Some((no, w)) = f.next_field()? {
            if no == 1 {
                let d = walk_deal(w.bytes("deals")?)?;
                emit_deal(symbol, head, &d, sink)?;
            }
        }
    }
    Ok(())
}

#[inline]
fn walk_bbo<S: Sink>(chunks: Chunks<'_>, head: &Head<'_>, sink: &mut S) -> Result<(), DecodeError> {
    let symbol = head.symbol()?;
    let mut v = BboView::default();
    for chunk in chunks {
        let mut f = Fields::new(chunk);
        while let Some((no, w)) = f.next_field()? {
            match no {
                5 => v.version = w.bytes("version")?,
                6 => v.time = w.varint("lastOrderCreateTime")? as i64,
                _ => bbo_field(&mut v, no, w)?,
            }
        }
    }
    emit_bbo(symbol, head, &v, sink)
}

fn walk_bbo_batch<S: Sink>(
    chunks: Chunks<'_>,
    head: &Head<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let symbol = head.symbol()?;
    // Pass 1: the batch-level version and time (they may follow the items on the wire).
    let mut batch = BboView::default();
    for chunk in chunks.clone() {
        let mut f = Fields::new(chunk);
        while let Some((no, w)) = f.next_field()? {
            match no {
                1 => {
                    w.bytes("items")?;
                }
                2 => batch.version = w.bytes("version")?,
                3 => batch.time = w.varint("lastOrderCreateTime")? as i64,
                _ => {}
            }
        }
    }
    // Pass 2: one BBO per item.
    for chunk in chunks {
        let mut f = Fields::new(chunk);
        while let Some((no, w)) = f.next_field()? {
            if no == 1 {
                let mut v = batch;
                v.bid_price = &[];
                v.bid_quantity = &[];
                v.ask_price = &[];
                v.ask_quantity = &[];
                let mut g = Fields::new(w.bytes("items")?);
                while let Some((n, x)) = g.next_field()? {
                    bbo_field(&mut v, n, x)?;
                }
                emit_bbo(symbol, head, &v, sink)?;
            }
        }
    }
    Ok(())
}

fn walk_mini_ticker<S: Sink>(
    chunks: Chunks<'_>,
    head: &Head<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let mut v = TickerView::default();
    for chunk in chunks {
        let mut f = Fields::new(chunk);
        while let Some((no, w)) = f.next_field()? {
            match no {
                1 => v.symbol = w.bytes("symbol")?,
                2 => v.price = w.bytes("price")?,
                _ => {}
            }
        }
    }
    emit_ticker(head, &v, sink)
}

fn walk_mini_tickers<S: Sink>(
    chunks: Chunks<'_>,
    head: &Head<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    for chunk in chunks {
        let mut f = Fields::new(chunk);
        while let Some((no, w)) = f.next_field()? {
            if no == 1 {
                let t = walk_ticker(w.bytes("items")?)?;
                emit_ticker(head, &t, sink)?;
            }
        }
    }
    Ok(())
}

fn walk_order<S: Sink>(
    chunks: Chunks<'_>,
    head: &Head<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let mut v = OrderView::default();
    for chunk in chunks {
        let mut f = Fields::new(chunk);
        while let Some((no, w)) = f.next_field()? {
            match no {
                1 => v.id = w.bytes("id")?,
                2 => v.client_id = w.bytes("clientId")?,
                3 => v.price = w.bytes("price")?,
                4 => v.quantity = w.bytes("quantity")?,
                6 => v.avg_price = w.bytes("avgPrice")?,
                7 => v.order_type = w.varint("orderType")? as i32,
                8 => v.trade_type = w.varint("tradeType")? as i32,
                11 => v.remain_quantity = w.bytes("remainQuantity")?,
                13 => v.cumulative_quantity = w.bytes("cumulativeQuantity")?,
                15 => v.status = w.varint("status")? as i32,
                16 => v.create_time = w.varint("createTime")? as i64,
                _ => {}
            }
        }
    }
    emit_order(head, &v, sink)
}

fn walk_fill<S: Sink>(
    chunks: Chunks<'_>,
    head: &Head<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let mut v = FillView::default();
    for chunk in chunks {
        let mut f = Fields::new(chunk);
        while let Some((no, w)) = f.next_field()? {
            match no {
                1 => v.price = w.bytes("price")?,
                2 => v.quantity = w.bytes("quantity")?,
                4 => v.trade_type = w.varint("tradeType")? as i32,
                5 => v.is_maker = w.varint("isMaker")? != 0,
                7 => v.trade_id = w.bytes("tradeId")?,
                8 => v.client_order_id = w.bytes("clientOrderId")?,
                9 => v.order_id = w.bytes("orderId")?,
                10 => v.fee_amount = w.bytes("feeAmount")?,
                11 => v.fee_currency = w.bytes("feeCurrency")?,
                12 => v.time = w.varint("time")? as i64,
                _ => {}
            }
        }
    }
    emit_fill(head, &v, sink)
}

fn walk_account<S: Sink>(
    chunks: Chunks<'_>,
    head: &Head<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let mut v = AccountView::default();
    for chunk in chunks {
        let mut f = Fields::new(chunk);
        while let Some((no, w)) = f.next_field()? {
            match no {
                1 => v.vcoin_name = w.bytes("vcoinName")?,
                3 => v.balance_amount = w.bytes("balanceAmount")?,
                4 => v.balance_amount_change = w.bytes("balanceAmountChange")?,
                5 => v.frozen_amount = w.bytes("frozenAmount")?,
                7 => v.kind = w.bytes("type")?,
                8 => v.time = w.varint("time")? as i64,
                _ => {}
            }
        }
    }
    emit_account(head, &v, sink)
}

/// Body field number of a binary push without decoding anything else (`Ok(None)`: no body).
/// Reads the wrapper's top-level keys only.
pub fn body_kind(frame: &[u8]) -> Result<Option<u32>, DecodeError> {
    let mut f = Fields::new(frame);
    let mut kind = None;
    while let Some((no, _)) = f.next_field()? {
        if (301..=315).contains(&no) {
            kind = Some(no);
        }
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_values_are_exact_never_truncated() {
        assert_eq!(
            dec("f", b"0.0003998377369698171").map(|d| d.to_string()),
            Ok("0.0003998377369698171".to_string())
        );
        assert_eq!(
            dec("f", b"-1.123456789"),
            Ok(Dec::from_parts(-1_123_456_789, 9).unwrap())
        );
        assert_eq!(dec("f", b""), Ok(Dec::ZERO));
        assert_eq!(
            dec("f", b"1.0000000000000000000000000000000000000001"),
            Err(DecodeError::Number("f", NumError::TooManyDigits))
        );
    }

    #[test]
    fn fast_path_equals_general_parser() {
        let cases: &[&[u8]] = &[
            b"84270.01",
            b"0.00638700",
            b"0",
            b"00.5",
            b"1.",
            b".5",
            b"1e3",
            b"-1",
            b"+1",
            b"0.00000000001",
            b"0.000000001",
            b"9223372036854775807",
            b"922337203.6854775807",
            b"922337203.6854775808",
            b"92233720368.54775807",
            b"92233720368.54775808",
            b"1234567890123456789",
            b"1..2",
            b"1.2.3",
            b"",
            b"abc",
            b"12a",
            b"1.0000000000",
        ];
        for c in cases {
            // The fast paths themselves: tests/num_parse.rs and `crate::num`'s unit tests.
            // Through the wrappers: identical to the general parser, errors included.
            assert_eq!(
                px("p", c),
                Px::parse(c).map_err(|e| DecodeError::Number("p", e))
            );
            assert_eq!(
                qty("q", c),
                Qty::parse(c).map_err(|e| DecodeError::Number("q", e))
            );
        }
        assert_eq!(px("p", b"84270.01"), Ok(Px(842_700_100_000_000)));
    }

    #[test]
    fn swar_shapes_equal_general_parser() {
        // Every (integer digits, fraction digits) shape around the 8+8 SWAR window, with and
        // without a dot, digits varied; plus a non-digit planted at every position.
        let digits = b"9081726354";
        for d in 0..=10usize {
            for m in 0..=10usize {
                for dot in [true, false] {
                    if !dot && m > 0 {
                        continue;
                    }
                    let mut s = Vec::new();
                    for i in 0..d {
                        s.push(digits[(i * 7 + m) % 10]);
                    }
                    if dot {
                        s.push(b'.');
                    }
                    for i in 0..m {
                        s.push(digits[(i * 3 + d) % 10]);
                    }
                    let want_p = Px::parse(&s).map_err(|e| DecodeError::Number("p", e));
                    let want_q = Qty::parse(&s).map_err(|e| DecodeError::Number("q", e));
                    assert_eq!(px("p", &s), want_p, "{}", String::from_utf8_lossy(&s));
                    assert_eq!(qty("q", &s), want_q, "{}", String::from_utf8_lossy(&s));
                    for pos in 0..s.len() {
                        for bad in [b'/', b':', b'.', b'e', b'-', 0u8, 0xae, b' '] {
                            let mut t = s.clone();
                            t[pos] = bad;
                            assert_eq!(
                                px("p", &t),
                                Px::parse(&t).map_err(|e| DecodeError::Number("p", e)),
                                "{:?}",
                                t
                            );
                            assert_eq!(
                                qty("q", &t),
                                Qty::parse(&t).map_err(|e| DecodeError::Number("q", e)),
                                "{:?}",
                                t
                            );
                        }
                    }
                }
            }
        }
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn swar_window_matches(s in "[0-9]{1,9}(\\.[0-9]{0,9})?") {
                let b = s.as_bytes();
                prop_assert_eq!(px("p", b), Px::parse(b).map_err(|e| DecodeError::Number("p", e)));
                prop_assert_eq!(qty("q", b), Qty::parse(b).map_err(|e| DecodeError::Number("q", e)));
            }

            #[test]
            fn fast_path_matches_on_random_text(s in "[0-9.]{0,21}|[0-9]{1,12}\\.[0-9]{0,12}") {
                let b = s.as_bytes();
                prop_assert_eq!(px("p", b), Px::parse(b).map_err(|e| DecodeError::Number("p", e)));
                prop_assert_eq!(qty("q", b), Qty::parse(b).map_err(|e| DecodeError::Number("q", e)));
            }

            #[test]
            fn fast_path_matches_on_bytes(b in proptest::collection::vec(any::<u8>(), 0..22)) {
                prop_assert_eq!(px("p", &b), Px::parse(&b).map_err(|e| DecodeError::Number("p", e)));
            }

            #[test]
            fn level_fast_path_matches_generic_walk(p in "[0-9.]{0,130}", q in "[0-9.]{0,130}", extra in proptest::collection::vec(any::<u8>(), 0..3)) {
                use prost::Message;
                let mut item = super::super::wire::DepthItem { price: p, quantity: q }.encode_to_vec();
                item.extend_from_slice(&extra);
                let fast = walk_level(&item);
                let mut f = Fields::new(&item);
                let mut slow: Result<(&[u8], &[u8]), DecodeError> = Ok((&[], &[]));
                loop {
                    match f.next_field() {
                        Ok(Some((1, Wire::Len(b)))) => { if let Ok(s) = &mut slow { s.0 = b } }
                        Ok(Some((2, Wire::Len(b)))) => { if let Ok(s) = &mut slow { s.1 = b } }
                        Ok(Some((1 | 2, _))) => { slow = Err(DecodeError::WrongType("x")); break }
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(e) => { slow = Err(e); break }
                    }
                }
                match (fast, slow) {
                    (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                    (Err(_), Err(_)) => {}
                    (a, b) => prop_assert!(false, "{:?} vs {:?}", a, b),
                }
            }
        }
    }

    #[test]
    fn versions_parse_as_u64() {
        assert_eq!(version("v", b"82164153436"), Ok(82_164_153_436));
        assert_eq!(version("v", b""), Err(DecodeError::MissingField("v")));
        assert_eq!(
            version("v", b"1x"),
            Err(DecodeError::Number("v", NumError::Garbage))
        );
        assert_eq!(
            version("v", b"99999999999999999999"),
            Err(DecodeError::Number("v", NumError::Overflow))
        );
    }

    #[test]
    fn enums_map_explicitly() {
        assert_eq!(order_status(1), OrderStatus::New);
        assert_eq!(order_status(2), OrderStatus::Filled);
        assert_eq!(order_status(3), OrderStatus::PartiallyFilled);
        assert_eq!(order_status(4), OrderStatus::Canceled);
        assert_eq!(order_status(5), OrderStatus::PartiallyCanceled);
        assert_eq!(order_status(0), OrderStatus::Other);
        assert_eq!(order_type(1), OrderType::Limit);
        assert_eq!(order_type(2), OrderType::PostOnly);
        assert_eq!(order_type(3), OrderType::Ioc);
        assert_eq!(order_type(4), OrderType::Fok);
        assert_eq!(order_type(5), OrderType::Market);
        assert_eq!(order_type(100), OrderType::Stop);
        assert_eq!(order_type(6), OrderType::Other);
        assert_eq!(trade_side(1), Ok(Side::Buy));
        assert_eq!(trade_side(2), Ok(Side::Sell));
        assert!(trade_side(3).is_err());
        assert_eq!(liquidity(true), Liquidity::Maker);
        assert_eq!(liquidity(false), Liquidity::Taker);
    }
}
