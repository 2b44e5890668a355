//! Public push bodies → events: aggregated and limited depth (313, 303), aggregated deals (314),
//! book tickers (315, 311), mini tickers (309, 310), klines (308). Walked with
//! [`super::wire::Fields`].

use super::wire::{
    px, px_or_zero, qty, qty_or_zero, trade_side, utf8, version, Chunks, Fields, Head, Wire,
};
use crate::event::{
    BboMsg, BookMsg, DecodeError, IdRef, KlineMsg, Level, Sink, TickerMsg, TradeMsg,
};
use crate::types::{BookSide, Interval, Venue};

/// The book-level scratch of one decoder (both sides sized at construction).
#[derive(Debug)]
pub(super) struct Levels {
    bids: Box<[Level]>,
    asks: Box<[Level]>,
    n_bids: usize,
    n_asks: usize,
}

impl Levels {
    pub(super) fn new(max_levels: usize) -> Self {
        Levels {
            bids: vec![Level::default(); max_levels].into_boxed_slice(),
            asks: vec![Level::default(); max_levels].into_boxed_slice(),
            n_bids: 0,
            n_asks: 0,
        }
    }

    /// Levels per side the scratch holds.
    pub(super) fn max(&self) -> usize {
        self.bids.len()
    }

    #[inline(always)]
    fn reset(&mut self) {
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

    #[inline]
    pub(super) fn walk_depth<S: Sink>(
        &mut self,
        chunks: Chunks<'_>,
        head: &Head<'_>,
        snapshot: bool,
        sink: &mut S,
    ) -> Result<(), DecodeError> {
        let symbol = head.symbol()?;
        self.reset();
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
}

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

#[inline]
pub(super) fn walk_deals<S: Sink>(
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
pub(super) fn walk_bbo<S: Sink>(
    chunks: Chunks<'_>,
    head: &Head<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
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

pub(super) fn walk_bbo_batch<S: Sink>(
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

pub(super) fn walk_mini_ticker<S: Sink>(
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

pub(super) fn walk_mini_tickers<S: Sink>(
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

/// `publicSpotKline` (308), protocols.md §1.5: interval=1 (`Min1`…`Month1`), windowStart=2
/// (int64 **seconds**), openingPrice=3, closingPrice=4, highestPrice=5, lowestPrice=6,
/// volume=7 (base quantity), amount=8 (quote turnover), windowEnd=9 (seconds). The symbol is
/// the wrapper's; the push time is the wrapper's `createTime` (kline pushes carry no
/// `sendTime`, §1.5 "Wire facts"), else `sendTime`. MEXC sends no closed flag: the candle
/// counts as closed when the push was made at or after its window end (push time ≥
/// windowEnd × 1000), i.e. it is the window's final state.
pub(super) fn walk_kline<S: Sink>(
    chunks: Chunks<'_>,
    head: &Head<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let symbol = head.symbol()?;
    let (mut iv, mut start, mut end) = (&[][..], 0i64, 0i64);
    let (mut o, mut c, mut h, mut l, mut v, mut a) =
        (&[][..], &[][..], &[][..], &[][..], &[][..], &[][..]);
    for chunk in chunks {
        let mut f = Fields::new(chunk);
        while let Some((no, w)) = f.next_field()? {
            match no {
                1 => iv = w.bytes("interval")?,
                2 => start = w.varint("windowStart")? as i64,
                3 => o = w.bytes("openingPrice")?,
                4 => c = w.bytes("closingPrice")?,
                5 => h = w.bytes("highestPrice")?,
                6 => l = w.bytes("lowestPrice")?,
                7 => v = w.bytes("volume")?,
                8 => a = w.bytes("amount")?,
                9 => end = w.varint("windowEnd")? as i64,
                _ => {}
            }
        }
    }
    let interval =
        Interval::from_venue_code(Venue::Mexc, iv).ok_or(DecodeError::WrongType("interval"))?;
    let open_time_ms = start
        .checked_mul(1000)
        .ok_or(DecodeError::WrongType("windowStart"))?;
    let ts = head.create_time.or(head.send_time);
    let closed = match (ts, end.checked_mul(1000)) {
        (Some(t), Some(e)) if end > 0 => t >= e,
        _ => false,
    };
    let need = |name: &'static str, b: &[u8]| {
        if b.is_empty() {
            Err(DecodeError::MissingField(name))
        } else {
            Ok(())
        }
    };
    need("openingPrice", o)?;
    need("closingPrice", c)?;
    need("highestPrice", h)?;
    need("lowestPrice", l)?;
    let m = KlineMsg {
        symbol,
        interval,
        open_time_ms,
        open: px("openingPrice", o)?,
        high: px("highestPrice", h)?,
        low: px("lowestPrice", l)?,
        close: px("closingPrice", c)?,
        volume: qty_or_zero("volume", v)?,
        quote_volume: if a.is_empty() {
            None
        } else {
            Some(qty("amount", a)?)
        },
        base_volume: None,
        closed,
        ts_exchange_ms: ts,
    };
    sink.kline(&m);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `DepthItem { price, quantity }` as prost encodes it: proto3 strings, empty ones omitted.
    fn depth_item(p: &str, q: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for (tag, s) in [(0x0au8, p), (0x12, q)] {
            if !s.is_empty() {
                out.push(tag);
                prost::encoding::encode_varint(s.len() as u64, &mut out);
                out.extend_from_slice(s.as_bytes());
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn level_fast_path_matches_generic_walk(p in "[0-9.]{0,130}", q in "[0-9.]{0,130}", extra in proptest::collection::vec(any::<u8>(), 0..3)) {
                let mut item = depth_item(&p, &q);
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
