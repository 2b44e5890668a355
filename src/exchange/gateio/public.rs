//! Public push channels → events, on both paths:
//!
//! * the **scanner** ([`try_decode`]) for the hottest channels (`*.obu`,
//!   `*.order_book_update`, `*.book_ticker`, `*.trades`), over [`Cur`];
//! * the **general path** handlers (`book_update`, `book_snapshot`, `trades`, `bbo`,
//!   `tickers`) over a simd-json [`Doc`].
//!
//! ## Scanner contract
//! Bytes → fixed-point in one pass, no tape, no DOM.
//!
//! Contract (checked by the differential tests in `tests/decode/gateio_fuzz_smoke.rs` and the unit
//! tests below): whenever the scanner returns [`Outcome::Done`], the general simd-json path would
//! have emitted exactly the same messages. Anything the scanner is not sure about — escapes,
//! non-ASCII, control frames (`error` not null, `event` subscribe/unsubscribe, `header`, `auth`),
//! numbers that fail exact parsing, unknown shapes, too many levels — makes it return
//! [`Outcome::Defer`] *before emitting anything*, and the general path decides (and produces the
//! typed error, if any). Whitespace anywhere, pretty-printed frames and any key order are handled.

use super::channel::{channel_kind, obu_symbol, Kind};
use super::wire::{levels, side_of, signed_size, Cur, Doc, Levels, Span, R};
use crate::event::{BboMsg, BookMsg, DecodeError, IdRef, KlineMsg, Sink, TickerMsg, TradeMsg};
use crate::num::parse_unsigned_fast;
use crate::types::{Interval, Market, Px, Qty, Side, Venue};

pub(super) enum Outcome {
    Done,
    Defer,
}

#[derive(Clone, Copy)]
enum IdSpan {
    Num(u64),
    Str(Span),
}

#[derive(Clone, Copy)]
struct ScanTrade {
    sym: Span,
    px: Px,
    qty: Qty,
    side: Side,
    id: IdSpan,
    ts: Option<i64>,
}

pub(super) struct Scratch {
    trades: Vec<ScanTrade>,
    max_trades: usize,
}

impl Scratch {
    pub(crate) fn new(max_trades: usize) -> Self {
        Scratch {
            trades: Vec::with_capacity(max_trades),
            max_trades,
        }
    }
}

struct BookHdr {
    sym: Span,
    snapshot: bool,
    seq_first: u64,
    seq_last: u64,
    ts: Option<i64>,
}

struct Bbo {
    sym: Span,
    bid_px: Px,
    bid_qty: Qty,
    ask_px: Px,
    ask_qty: Qty,
    seq: Option<u64>,
    ts: Option<i64>,
}

enum Parsed {
    Book(BookHdr, bool),
    Bbo(Bbo),
    Trades,
}

fn parse_book(c: &mut Cur<'_>, lv: &mut Levels, obu: bool) -> R<Parsed> {
    let mut sym = None;
    let mut full = false;
    let mut uu = None;
    let mut u = None;
    let mut ts = None;
    let max = lv.max;
    let (bids, asks) = (&mut lv.bids, &mut lv.asks);
    bids.clear();
    asks.clear();
    c.object(|c, k| {
        match k {
            b"b" => c.levels(bids, max)?,
            b"a" => c.levels(asks, max)?,
            b"U" => uu = Some(c.uint()?),
            b"u" => u = Some(c.uint()?),
            b"s" => sym = Some(c.string()?),
            b"t" => ts = Some(c.ms()?),
            b"full" => full = c.boolean()?,
            _ => c.skip_value(1)?,
        }
        Some(())
    })?;
    let seq_last = u?;
    let seq_first = if full { seq_last } else { uu? };
    Some(Parsed::Book(
        BookHdr {
            sym: sym?,
            snapshot: full,
            seq_first,
            seq_last,
            ts,
        },
        obu,
    ))
}

fn parse_bbo(c: &mut Cur<'_>) -> R<Parsed> {
    let (mut sym, mut b, mut bq, mut a, mut aq, mut u, mut ts) =
        (None, None, None, None, None, None, None);
    c.object(|c, k| {
        match k {
            b"b" => b = Some(c.dec()?),
            b"B" => bq = Some(c.dec()?),
            b"a" => a = Some(c.dec()?),
            b"A" => aq = Some(c.dec()?),
            b"u" => u = Some(c.uint()?),
            b"t" => ts = Some(c.ms()?),
            b"s" => sym = Some(c.string()?),
            _ => c.skip_value(1)?,
        }
        Some(())
    })?;
    let px = |t: &[u8]| {
        if t.is_empty() {
            Some(Px::ZERO)
        } else {
            match t[0] {
                b'-' | b'+' => Px::parse_signed(t).ok(),
                // unsigned text: signed and unsigned parses agree
                _ => parse_unsigned_fast(t, Px::DECIMALS).ok().map(Px),
            }
        }
    };
    let qty = |t: &[u8]| {
        if t.is_empty() {
            Some(Qty::ZERO)
        } else {
            parse_unsigned_fast(t, Qty::DECIMALS).ok().map(Qty)
        }
    };
    Some(Parsed::Bbo(Bbo {
        sym: sym?,
        bid_px: px(b?)?,
        bid_qty: qty(bq?)?,
        ask_px: px(a?)?,
        ask_qty: qty(aq?)?,
        seq: u,
        ts,
    }))
}

fn parse_trade(c: &mut Cur<'_>, market: Market) -> R<ScanTrade> {
    let (mut sym, mut id, mut px, mut amount, mut size, mut side, mut ts) =
        (None, None, None, None, None, None, None);
    c.object(|c, k| {
        match k {
            b"currency_pair" | b"contract" => sym = Some(c.string()?),
            b"id" => {
                id = Some(if c.peek()? == b'"' {
                    IdSpan::Str(c.string()?)
                } else {
                    IdSpan::Num(c.uint()?)
                })
            }
            b"price" => px = Some(c.dec()?),
            b"amount" => amount = Some(c.dec()?),
            b"size" => size = Some(c.dec()?),
            b"side" => side = Some(c.string()?),
            b"create_time_ms" => ts = Some(c.ms()?),
            _ => c.skip_value(1)?,
        }
        Some(())
    })?;
    let px = Px(parse_unsigned_fast(px?, Px::DECIMALS).ok()?);
    let (side, qty) = match market {
        Market::Spot => {
            let side = match c.slice(side?) {
                b"buy" => Side::Buy,
                b"sell" => Side::Sell,
                _ => return None,
            };
            (side, Qty(parse_unsigned_fast(amount?, Qty::DECIMALS).ok()?))
        }
        Market::Futures => {
            let q = Qty::parse_signed(size?).ok()?;
            match signed_size(q) {
                Ok(v) => v,
                Err(_) => return None,
            }
        }
    };
    Some(ScanTrade {
        sym: sym?,
        px,
        qty,
        side,
        id: id?,
        ts,
    })
}

fn parse_trades(c: &mut Cur<'_>, market: Market, sc: &mut Scratch) -> R<Parsed> {
    sc.trades.clear();
    match c.peek()? {
        b'{' => {
            let t = parse_trade(c, market)?;
            sc.trades.push(t);
        }
        b'[' => {
            c.i += 1;
            if c.peek()? == b']' {
                c.i += 1;
            } else {
                loop {
                    if sc.trades.len() >= sc.max_trades {
                        return None;
                    }
                    if c.peek()? != b'{' {
                        return None;
                    }
                    let t = parse_trade(c, market)?;
                    sc.trades.push(t);
                    if !c.more(b']')? {
                        break;
                    }
                }
            }
        }
        _ => return None,
    }
    Some(Parsed::Trades)
}

fn parse_result(
    c: &mut Cur<'_>,
    mk: (Market, Kind),
    lv: &mut Levels,
    sc: &mut Scratch,
) -> R<Parsed> {
    match mk.1 {
        Kind::Obu => parse_book(c, lv, true),
        Kind::Update => parse_book(c, lv, false),
        Kind::BookTicker => parse_bbo(c),
        Kind::Trades => parse_trades(c, mk.0, sc),
        _ => None,
    }
}

fn scan(frame: &[u8], lv: &mut Levels, sc: &mut Scratch) -> R<Parsed> {
    let mut c = Cur { b: frame, i: 0 };
    let mut mk: Option<(Market, Kind)> = None;
    let mut parsed: Option<Parsed> = None;
    let mut result_at: Option<usize> = None;
    let mut result_seen = false;
    c.object(|c, k| {
        match k {
            b"channel" => {
                if mk.is_some() {
                    return None;
                }
                let s = c.string()?;
                let m = channel_kind(c.slice(s))?;
                if !matches!(
                    m.1,
                    Kind::Obu | Kind::Update | Kind::BookTicker | Kind::Trades
                ) {
                    return None;
                }
                mk = Some(m);
            }
            b"result" => {
                if result_seen {
                    return None;
                }
                result_seen = true;
                match mk {
                    Some(m) => parsed = Some(parse_result(c, m, lv, sc)?),
                    None => {
                        result_at = Some(c.i);
                        c.skip_value(1)?;
                    }
                }
            }
            b"event" => {
                let s = c.string()?;
                if matches!(c.slice(s), b"subscribe" | b"unsubscribe") {
                    return None;
                }
            }
            b"error" => c.lit(b"null")?,
            b"time_ms" => {
                c.ms()?;
            }
            b"header" | b"auth" => return None,
            _ => c.skip_value(1)?,
        }
        Some(())
    })?;
    c.ws();
    if c.i != frame.len() {
        return None;
    }
    match parsed {
        Some(p) => Some(p),
        None => {
            let m = mk?;
            c.i = result_at?;
            parse_result(&mut c, m, lv, sc)
        }
    }
}

#[inline]
fn text(frame: &[u8], s: Span) -> R<&str> {
    std::str::from_utf8(&frame[s.start as usize..s.end as usize]).ok()
}

/// Scan `frame`; on success emit to `sink` and return `Done`. On `Defer` nothing was emitted.
#[inline]
pub(super) fn try_decode<S: Sink>(
    frame: &[u8],
    lv: &mut Levels,
    sc: &mut Scratch,
    sink: &mut S,
) -> Outcome {
    let Some(p) = scan(frame, lv, sc) else {
        return Outcome::Defer;
    };
    match p {
        Parsed::Book(h, obu) => {
            let Some(sym) = text(frame, h.sym) else {
                return Outcome::Defer;
            };
            sink.book(&BookMsg {
                symbol: if obu { obu_symbol(sym) } else { sym },
                snapshot: h.snapshot,
                seq_first: h.seq_first,
                seq_last: h.seq_last,
                bids: &lv.bids,
                asks: &lv.asks,
                ts_exchange_ms: h.ts,
            });
        }
        Parsed::Bbo(b) => {
            let Some(sym) = text(frame, b.sym) else {
                return Outcome::Defer;
            };
            sink.bbo(&BboMsg {
                symbol: sym,
                bid_px: b.bid_px,
                bid_qty: b.bid_qty,
                ask_px: b.ask_px,
                ask_qty: b.ask_qty,
                seq: b.seq,
                ts_exchange_ms: b.ts,
            });
        }
        Parsed::Trades => {
            // All spans are ASCII (the scanner defers on anything else), so these never fail;
            // check before emitting anything to keep "defer ⇒ nothing emitted".
            for t in &sc.trades {
                let id_ok = match t.id {
                    IdSpan::Str(s) => text(frame, s).is_some(),
                    IdSpan::Num(_) => true,
                };
                if text(frame, t.sym).is_none() || !id_ok {
                    return Outcome::Defer;
                }
            }
            for t in &sc.trades {
                let trade_id = match t.id {
                    IdSpan::Num(n) => IdRef::Num(n),
                    IdSpan::Str(s) => IdRef::Str(text(frame, s).unwrap_or("")),
                };
                sink.trade(&TradeMsg {
                    symbol: text(frame, t.sym).unwrap_or(""),
                    px: t.px,
                    qty: t.qty,
                    side: t.side,
                    trade_id,
                    ts_exchange_ms: t.ts,
                });
            }
        }
    }
    Outcome::Done
}

// ---------------------------------------------------------------------------------------------
// General path (simd-json tape).

pub(super) fn book_update<S: Sink>(
    d: &mut Doc<'_, '_>,
    r: usize,
    obu: bool,
    lv: &mut Levels,
    sink: &mut S,
) -> Result<(), DecodeError> {
    if d.obj_len(r).is_none() {
        return Err(DecodeError::WrongType("result"));
    }
    let (mut t, mut full, mut s, mut uu, mut u, mut b, mut a) =
        (None, None, None, None, None, None, None);
    for (k, v) in d.fields(r) {
        match k {
            "t" => t = Some(v),
            "full" => full = Some(v),
            "s" => s = Some(v),
            "U" => uu = Some(v),
            "u" => u = Some(v),
            "b" => b = Some(v),
            "a" => a = Some(v),
            _ => {}
        }
    }
    let sym = d
        .str_at(s.ok_or(DecodeError::MissingField("s"))?)
        .ok_or(DecodeError::WrongType("s"))?;
    let sym = if obu { obu_symbol(sym) } else { sym };
    let full = match full {
        Some(f) => d.bool_at(f, "full")?,
        None => false,
    };
    let seq_last = d.u64_at(u.ok_or(DecodeError::MissingField("u"))?, "u")?;
    let seq_first = match uu {
        Some(i) => d.u64_at(i, "U")?,
        None if full => seq_last,
        None => return Err(DecodeError::MissingField("U")),
    };
    let seq_first = if full { seq_last } else { seq_first };
    let ts = match t {
        Some(i) => Some(d.ms_at(i, "t")?),
        None => None,
    };
    match b {
        Some(i) => levels(d, i, &mut lv.bids, lv.max, "b")?,
        None => lv.bids.clear(),
    }
    match a {
        Some(i) => levels(d, i, &mut lv.asks, lv.max, "a")?,
        None => lv.asks.clear(),
    }
    sink.book(&BookMsg {
        symbol: sym,
        snapshot: full,
        seq_first,
        seq_last,
        bids: &lv.bids,
        asks: &lv.asks,
        ts_exchange_ms: ts,
    });
    Ok(())
}

/// `spot.order_book` (t, lastUpdateId, s, bids, asks) and legacy `futures.order_book` (event
/// `all`: t, contract, id, asks/bids `{p,s}`): limited-depth snapshots.
pub(super) fn book_snapshot<S: Sink>(
    d: &mut Doc<'_, '_>,
    r: usize,
    ev: Option<&str>,
    lv: &mut Levels,
    sink: &mut S,
) -> Result<(), DecodeError> {
    if d.obj_len(r).is_none() {
        // Legacy futures `update` pushes (array of {p,s,c,id}) carry no book sequence.
        return Err(if ev == Some("update") && d.arr_len(r).is_some() {
            DecodeError::UnknownChannel
        } else {
            DecodeError::WrongType("result")
        });
    }
    let (mut t, mut s, mut id, mut b, mut a) = (None, None, None, None, None);
    for (k, v) in d.fields(r) {
        match k {
            "t" => t = Some(v),
            "s" | "contract" => s = Some(v),
            "lastUpdateId" | "id" => id = Some(v),
            "bids" => b = Some(v),
            "asks" => a = Some(v),
            _ => {}
        }
    }
    let sym = d
        .str_at(s.ok_or(DecodeError::MissingField("s"))?)
        .ok_or(DecodeError::WrongType("s"))?;
    let seq = d.u64_at(
        id.ok_or(DecodeError::MissingField("lastUpdateId"))?,
        "lastUpdateId",
    )?;
    let ts = match t {
        Some(i) => Some(d.ms_at(i, "t")?),
        None => None,
    };
    match b {
        Some(i) => levels(d, i, &mut lv.bids, lv.max, "bids")?,
        None => lv.bids.clear(),
    }
    match a {
        Some(i) => levels(d, i, &mut lv.asks, lv.max, "asks")?,
        None => lv.asks.clear(),
    }
    sink.book(&BookMsg {
        symbol: sym,
        snapshot: true,
        seq_first: seq,
        seq_last: seq,
        bids: &lv.bids,
        asks: &lv.asks,
        ts_exchange_ms: ts,
    });
    Ok(())
}

pub(super) fn trades<S: Sink>(
    d: &mut Doc<'_, '_>,
    r: usize,
    market: Market,
    sink: &mut S,
) -> Result<(), DecodeError> {
    if d.obj_len(r).is_some() {
        return trade_one(d, r, market, sink);
    }
    let n = d.arr_len(r).ok_or(DecodeError::WrongType("result"))?;
    let mut e = r + 1;
    for _ in 0..n {
        trade_one(d, e, market, sink)?;
        e = d.skip(e);
    }
    Ok(())
}

fn trade_one<S: Sink>(
    d: &mut Doc<'_, '_>,
    o: usize,
    market: Market,
    sink: &mut S,
) -> Result<(), DecodeError> {
    if d.obj_len(o).is_none() {
        return Err(DecodeError::WrongType("result"));
    }
    let (mut sym, mut id, mut px, mut amount, mut size, mut side, mut ms) =
        (None, None, None, None, None, None, None);
    for (k, v) in d.fields(o) {
        match k {
            "currency_pair" | "contract" => sym = Some(v),
            "id" => id = Some(v),
            "price" => px = Some(v),
            "amount" => amount = Some(v),
            "size" => size = Some(v),
            "side" => side = Some(v),
            "create_time_ms" => ms = Some(v),
            _ => {}
        }
    }
    let symbol = d
        .str_at(sym.ok_or(DecodeError::MissingField("currency_pair"))?)
        .ok_or(DecodeError::WrongType("currency_pair"))?;
    let trade_id = d.id_at(id.ok_or(DecodeError::MissingField("id"))?, "id")?;
    let px = d.pxu(px.ok_or(DecodeError::MissingField("price"))?, "price")?;
    let (side, qty) = match market {
        Market::Spot => {
            let s = d
                .str_at(side.ok_or(DecodeError::MissingField("side"))?)
                .ok_or(DecodeError::WrongType("side"))?;
            let side = side_of(s)?;
            let q = d.qty(amount.ok_or(DecodeError::MissingField("amount"))?, "amount")?;
            (side, q)
        }
        Market::Futures => {
            let q = d.qty_signed(size.ok_or(DecodeError::MissingField("size"))?, "size")?;
            signed_size(q)?
        }
    };
    let ts = match ms {
        Some(i) => Some(d.ms_at(i, "create_time_ms")?),
        None => None,
    };
    sink.trade(&TradeMsg {
        symbol,
        px,
        qty,
        side,
        trade_id,
        ts_exchange_ms: ts,
    });
    Ok(())
}

pub(super) fn bbo<S: Sink>(d: &mut Doc<'_, '_>, r: usize, sink: &mut S) -> Result<(), DecodeError> {
    if d.obj_len(r).is_none() {
        return Err(DecodeError::WrongType("result"));
    }
    let (mut t, mut u, mut s, mut b, mut bq, mut a, mut aq) =
        (None, None, None, None, None, None, None);
    for (k, v) in d.fields(r) {
        match k {
            "t" => t = Some(v),
            "u" => u = Some(v),
            "s" => s = Some(v),
            "b" => b = Some(v),
            "B" => bq = Some(v),
            "a" => a = Some(v),
            "A" => aq = Some(v),
            _ => {}
        }
    }
    let symbol = d
        .str_at(s.ok_or(DecodeError::MissingField("s"))?)
        .ok_or(DecodeError::WrongType("s"))?;
    let bid_px = d.px_or_empty(b.ok_or(DecodeError::MissingField("b"))?, "b")?;
    let bid_qty = d.qty_or_empty(bq.ok_or(DecodeError::MissingField("B"))?, "B")?;
    let ask_px = d.px_or_empty(a.ok_or(DecodeError::MissingField("a"))?, "a")?;
    let ask_qty = d.qty_or_empty(aq.ok_or(DecodeError::MissingField("A"))?, "A")?;
    let seq = match u {
        Some(i) => Some(d.u64_at(i, "u")?),
        None => None,
    };
    let ts = match t {
        Some(i) => Some(d.ms_at(i, "t")?),
        None => None,
    };
    sink.bbo(&BboMsg {
        symbol,
        bid_px,
        bid_qty,
        ask_px,
        ask_qty,
        seq,
        ts_exchange_ms: ts,
    });
    Ok(())
}

pub(super) fn tickers<S: Sink>(
    d: &mut Doc<'_, '_>,
    r: usize,
    env_ms: Option<i64>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    if d.obj_len(r).is_some() {
        return ticker_one(d, r, env_ms, sink);
    }
    let n = d.arr_len(r).ok_or(DecodeError::WrongType("result"))?;
    let mut e = r + 1;
    for _ in 0..n {
        ticker_one(d, e, env_ms, sink)?;
        e = d.skip(e);
    }
    Ok(())
}

/// `spot.candlesticks` (result: one object) and `futures.candlesticks` (result: an array of
/// objects). Fields: `t` window start in seconds (string on spot, integer on futures), `o`
/// `h` `l` `c` prices, `n` = `<interval>_<pair>`, `w` window closed (bool; "true may be
/// missing"), and the volumes, which differ by market: spot `v` = quote-currency volume and
/// `a` = base-currency amount; futures `v` = contracts (an integer, a string under
/// `X-Gate-Size-Decimal: 1`) and `a` = amount. Sources: protocols.md §3.2 (spot field list,
/// `[interval, pair]` payload); Gate spot WS v4 docs "Candlesticks Channel" (field table: `v`
/// "Total volume", `a` "Base currency trading amount", `w` "true means window close"); Gate
/// futures WS v4 docs "Candlesticks API" (`t` Integer, `v` Integer volume, `a` String amount,
/// result array); spot REST candlesticks name index 1 "quote currency" volume and index 6 base.
/// A `w` on futures rows is read the same way (seen in a public client's tests of
/// `futures.candlesticks`; the futures table does not list it).
pub(super) fn candlesticks<S: Sink>(
    d: &mut Doc<'_, '_>,
    r: usize,
    market: Market,
    env_ms: Option<i64>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    if d.obj_len(r).is_some() {
        return candle_one(d, r, market, env_ms, sink);
    }
    let n = d.arr_len(r).ok_or(DecodeError::WrongType("result"))?;
    let mut e = r + 1;
    for _ in 0..n {
        candle_one(d, e, market, env_ms, sink)?;
        e = d.skip(e);
    }
    Ok(())
}

/// `<interval>_<pair>` (`1m_BTC_USDT`) → (interval, pair).
pub(crate) fn candle_name(n: &str) -> Option<(Interval, &str)> {
    let (iv, pair) = n.split_once('_')?;
    let iv = Interval::from_venue_code(Venue::Gateio, iv.as_bytes())?;
    (!pair.is_empty()).then_some((iv, pair))
}

fn candle_one<S: Sink>(
    d: &mut Doc<'_, '_>,
    o: usize,
    market: Market,
    env_ms: Option<i64>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    if d.obj_len(o).is_none() {
        return Err(DecodeError::WrongType("result"));
    }
    let (mut t, mut v, mut c, mut h, mut l, mut op, mut n, mut a, mut w) =
        (None, None, None, None, None, None, None, None, None);
    for (k, i) in d.fields(o) {
        match k {
            "t" => t = Some(i),
            "v" => v = Some(i),
            "c" => c = Some(i),
            "h" => h = Some(i),
            "l" => l = Some(i),
            "o" => op = Some(i),
            "n" => n = Some(i),
            "a" => a = Some(i),
            "w" => w = Some(i),
            _ => {}
        }
    }
    let req = |x: Option<usize>, f: &'static str| x.ok_or(DecodeError::MissingField(f));
    let name = d.str_at(req(n, "n")?).ok_or(DecodeError::WrongType("n"))?;
    let (interval, symbol) = candle_name(name).ok_or(DecodeError::WrongType("n"))?;
    let t_s = d.u64_at(req(t, "t")?, "t")?;
    let open_time_ms = i64::try_from(t_s)
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .ok_or(DecodeError::WrongType("t"))?;
    let closed = match w {
        Some(i) if !d.is_null(i) => d.bool_at(i, "w")?,
        _ => false,
    };
    let open = d.pxu(req(op, "o")?, "o")?;
    let high = d.pxu(req(h, "h")?, "h")?;
    let low = d.pxu(req(l, "l")?, "l")?;
    let close = d.pxu(req(c, "c")?, "c")?;
    let v = d.qty(req(v, "v")?, "v")?;
    let (volume, quote_volume, base_volume) = match market {
        Market::Spot => (d.qty(req(a, "a")?, "a")?, Some(v), None),
        Market::Futures => {
            let a = match a {
                Some(i) if !d.is_null(i) => Some(d.qty(i, "a")?),
                _ => None,
            };
            (v, None, a)
        }
    };
    sink.kline(&KlineMsg {
        symbol,
        interval,
        open_time_ms,
        open,
        high,
        low,
        close,
        volume,
        quote_volume,
        base_volume,
        closed,
        ts_exchange_ms: env_ms,
    });
    Ok(())
}

fn opt_px(
    d: &mut Doc<'_, '_>,
    i: Option<usize>,
    f: &'static str,
) -> Result<Option<Px>, DecodeError> {
    match i {
        None => Ok(None),
        Some(i) if d.is_null(i) || d.str_at(i) == Some("") => Ok(None),
        Some(i) => d.px(i, f).map(Some),
    }
}

fn ticker_one<S: Sink>(
    d: &mut Doc<'_, '_>,
    o: usize,
    env_ms: Option<i64>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    if d.obj_len(o).is_none() {
        return Err(DecodeError::WrongType("result"));
    }
    let (mut sym, mut last, mut bid, mut ask, mut mark, mut index, mut fr) =
        (None, None, None, None, None, None, None);
    for (k, v) in d.fields(o) {
        match k {
            "currency_pair" | "contract" => sym = Some(v),
            "last" => last = Some(v),
            "highest_bid" => bid = Some(v),
            "lowest_ask" => ask = Some(v),
            "mark_price" => mark = Some(v),
            "index_price" => index = Some(v),
            "funding_rate" => fr = Some(v),
            _ => {}
        }
    }
    let symbol = d
        .str_at(sym.ok_or(DecodeError::MissingField("currency_pair"))?)
        .ok_or(DecodeError::WrongType("currency_pair"))?;
    let m = TickerMsg {
        symbol,
        last: opt_px(d, last, "last")?,
        bid_px: opt_px(d, bid, "highest_bid")?,
        ask_px: opt_px(d, ask, "lowest_ask")?,
        mark_px: opt_px(d, mark, "mark_price")?,
        index_px: opt_px(d, index, "index_price")?,
        funding_rate: opt_px(d, fr, "funding_rate")?,
        ts_exchange_ms: env_ms,
    };
    sink.ticker(&m);
    Ok(())
}
