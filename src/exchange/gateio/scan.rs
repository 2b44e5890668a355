//! Schema-specific scanner for the hottest push channels: `*.obu`, `*.order_book_update`,
//! `*.book_ticker`, `*.trades`. Bytes → fixed-point in one pass, no tape, no DOM.
//!
//! Contract (checked by the differential tests in `tests/gateio_fuzz_smoke.rs` and the unit
//! tests below): whenever the scanner returns [`Outcome::Done`], the general simd-json path would
//! have emitted exactly the same messages. Anything the scanner is not sure about — escapes,
//! non-ASCII, control frames (`error` not null, `event` subscribe/unsubscribe, `header`, `auth`),
//! numbers that fail exact parsing, unknown shapes, too many levels — makes it return
//! [`Outcome::Defer`] *before emitting anything*, and the general path decides (and produces the
//! typed error, if any). Whitespace anywhere, pretty-printed frames and any key order are handled.

use super::decode::{channel_kind, obu_symbol, Kind, Levels};
use super::tape::parse_ms;
use crate::event::{BboMsg, BookMsg, IdRef, Level, Sink, TradeMsg};
use crate::num::{digit_run, parse_fixed, parse_unsigned_fast, plain_dec, POW10};
use crate::types::{Market, Px, Qty, Side};

pub(crate) enum Outcome {
    Done,
    Defer,
}

/// Deferral: `None`.
type R<T> = Option<T>;

#[derive(Clone, Copy, Default)]
struct Span {
    start: u32,
    end: u32,
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

pub(crate) struct Scratch {
    trades: Vec<ScanTrade>,
    max_trades: usize,
}

impl Scratch {
    pub fn new(max_trades: usize) -> Self {
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

struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    #[inline(always)]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if c == b' ' || c == b'\n' || c == b'\r' || c == b'\t' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    #[inline(always)]
    fn peek(&mut self) -> R<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    #[inline(always)]
    fn eat(&mut self, c: u8) -> R<()> {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// `,` → `Some(true)` (more members), closing `close` → `Some(false)`.
    #[inline(always)]
    fn more(&mut self, close: u8) -> R<bool> {
        match self.peek()? {
            b',' => {
                self.i += 1;
                Some(true)
            }
            c if c == close => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// A string without escapes, control or non-ASCII bytes; returns its content span.
    #[inline(always)]
    fn string(&mut self) -> R<Span> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            let c = *self.b.get(self.i)?;
            if c == b'"' {
                let end = self.i;
                self.i += 1;
                return Some(Span {
                    start: start as u32,
                    end: end as u32,
                });
            }
            if c < 0x20 || c == b'\\' || c >= 0x80 {
                return None;
            }
            self.i += 1;
        }
    }

    #[inline(always)]
    fn slice(&self, s: Span) -> &'a [u8] {
        &self.b[s.start as usize..s.end as usize]
    }

    /// A JSON number token (grammar checked); returns its text.
    #[inline(always)]
    fn number(&mut self) -> R<&'a [u8]> {
        self.ws();
        let b = self.b;
        let start = self.i;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let int_start = i;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while matches!(b.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            _ => return None,
        }
        // Stay where simd-json is certain to accept: ≤ 19 integer digits (fits u64/i64).
        if i - int_start > 19 {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            let d = i;
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            if i == d {
                return None;
            }
        }
        if matches!(b.get(i), Some(b'e') | Some(b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+') | Some(b'-')) {
                i += 1;
            }
            let d = i;
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            // Exponents beyond two digits may overflow f64, which simd-json refuses.
            if i == d || i - d > 2 {
                return None;
            }
        }
        if i - start > 40 {
            return None;
        }
        self.i = i;
        Some(&b[start..i])
    }

    /// Unquoted non-negative integer.
    #[inline(always)]
    fn uint(&mut self) -> R<u64> {
        let t = self.number()?;
        super::tape::parse_u64(t)
    }

    /// Decimal text: a string's content or a number token.
    #[inline(always)]
    fn dec(&mut self) -> R<&'a [u8]> {
        if self.peek()? == b'"' {
            let s = self.string()?;
            Some(self.slice(s))
        } else {
            self.number()
        }
    }

    #[inline(always)]
    fn lit(&mut self, word: &[u8]) -> R<()> {
        self.ws();
        if self.b.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    fn boolean(&mut self) -> R<bool> {
        match self.peek()? {
            b't' => self.lit(b"true").map(|_| true),
            b'f' => self.lit(b"false").map(|_| false),
            _ => None,
        }
    }

    fn skip_value(&mut self, depth: u32) -> R<()> {
        if depth > 64 {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => {
                self.i += 1;
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.string()?;
                    self.eat(b':')?;
                    self.skip_value(depth + 1)?;
                    if !self.more(b'}')? {
                        return Some(());
                    }
                }
            }
            b'[' => {
                self.i += 1;
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    if !self.more(b']')? {
                        return Some(());
                    }
                }
            }
            b't' => self.lit(b"true"),
            b'f' => self.lit(b"false"),
            b'n' => self.lit(b"null"),
            _ => self.number().map(|_| ()),
        }
    }

    /// Milliseconds: unquoted integer, or a string `digits(.digits)?`.
    fn ms(&mut self) -> R<i64> {
        if self.peek()? == b'"' {
            let s = self.string()?;
            parse_ms(self.slice(s))
        } else {
            i64::try_from(self.uint()?).ok()
        }
    }

    /// Iterate the members of an object: calls `f(self, key)` positioned at each value.
    #[inline(always)]
    fn object(&mut self, mut f: impl FnMut(&mut Self, &'a [u8]) -> R<()>) -> R<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let k = self.string()?;
            let key = self.slice(k);
            self.eat(b':')?;
            f(self, key)?;
            if !self.more(b'}')? {
                return Some(());
            }
        }
    }

    /// Unsigned fixed-point value with `decimals` digits from a quoted decimal or a number
    /// token. Fast path: a quoted `digits(.digits)?` with ≤ 18 digits and ≤ `decimals`
    /// fraction digits is converted in the same pass that finds the closing quote. Everything
    /// else goes through `parse_fixed` (the same function `Px::parse`/`Qty::parse` use), so the
    /// result is identical either way. `None` on any parse failure (→ defer).
    #[inline(always)]
    fn fixed(&mut self, decimals: u32) -> R<i64> {
        if self.peek()? == b'"' {
            let b = self.b;
            let (mant, n_int, j) = digit_run(b, self.i + 1, 0);
            let (mant, n_frac, j) = if b.get(j) == Some(&b'.') {
                let (m, n, j2) = digit_run(b, j + 1, mant);
                if n == 0 {
                    return self.fixed_slow(decimals);
                }
                (m, n, j2)
            } else {
                (mant, 0, j)
            };
            if b.get(j) != Some(&b'"') || n_int == 0 || n_int + n_frac > 18 || n_frac > decimals {
                return self.fixed_slow(decimals);
            }
            let scale = POW10[(decimals - n_frac) as usize];
            let v = if n_int + decimals <= 18 {
                // mant < 10^(n_int+n_frac), so the product is < 10^18: no overflow.
                mant * scale
            } else {
                let v = mant.checked_mul(scale)?;
                if v > i64::MAX as u64 {
                    return None;
                }
                v
            };
            self.i = j + 1;
            Some(v as i64)
        } else {
            let t = self.number()?;
            parse_fixed(t, decimals, false).ok()
        }
    }

    #[cold]
    fn fixed_slow(&mut self, decimals: u32) -> R<i64> {
        let s = self.string()?;
        parse_fixed(self.slice(s), decimals, false).ok()
    }

    /// Book levels `[["p","q"],…]` or `[{"p":…,"s":…},…]`.
    #[inline(always)]
    fn levels(&mut self, out: &mut Vec<Level>, max: usize) -> R<()> {
        out.clear();
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            if out.len() >= max {
                return None;
            }
            // Compact `["P","Q"]` with plain decimals: no whitespace handling, one pass.
            let fast = match self.b.get(self.i) {
                Some(b'[') => level_compact(self.b, self.i),
                Some(b'{') => level_compact_obj(self.b, self.i),
                _ => None,
            };
            if let Some((p, q, j)) = fast {
                self.i = j;
                out.push(Level {
                    px: Px(p),
                    qty: Qty(q),
                });
                if !self.more(b']')? {
                    return Some(());
                }
                continue;
            }
            let (p, q) = match self.peek()? {
                b'[' => {
                    self.i += 1;
                    let p = self.fixed(Px::DECIMALS)?;
                    self.eat(b',')?;
                    let q = self.fixed(Qty::DECIMALS)?;
                    self.eat(b']')?;
                    (p, q)
                }
                b'{' => {
                    let mut p = None;
                    let mut q = None;
                    self.object(|c, k| {
                        match k {
                            b"p" => p = Some(c.fixed(Px::DECIMALS)?),
                            b"s" => q = Some(c.fixed(Qty::DECIMALS)?),
                            _ => return None,
                        }
                        Some(())
                    })?;
                    (p?, q?)
                }
                _ => return None,
            };
            out.push(Level {
                px: Px(p),
                qty: Qty(q),
            });
            if !self.more(b']')? {
                return Some(());
            }
        }
    }
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
            match super::decode::signed_size(q) {
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

/// `["P","Q"]` at `i` exactly (no whitespace), both plain decimals on the fast path; returns
/// (px units, qty units, index after `]`). `None` → the caller's general element parser runs.
#[inline(always)]
fn level_compact(b: &[u8], i: usize) -> Option<(i64, i64, usize)> {
    if b.get(i..i + 2)? != b"[\"" {
        return None;
    }
    let (p, j) = plain_dec(b, i + 2, Px::DECIMALS)?;
    if b.get(j..j + 3)? != b"\",\"" {
        return None;
    }
    let (q, j) = plain_dec(b, j + 3, Qty::DECIMALS)?;
    if b.get(j..j + 2)? != b"\"]" {
        return None;
    }
    Some((p, q, j + 2))
}

/// `{"p":"P","s":"Q"}` or `{"p":"P","s":N}` (futures levels) at `i` exactly, no whitespace.
/// An unquoted `N` must be a JSON integer (no leading zero) so simd-json would accept it too.
#[inline(never)]
fn level_compact_obj(b: &[u8], i: usize) -> Option<(i64, i64, usize)> {
    if b.get(i..i + 6)? != b"{\"p\":\"" {
        return None;
    }
    let (p, j) = plain_dec(b, i + 6, Px::DECIMALS)?;
    if b.get(j..j + 6)? != b"\",\"s\":" {
        return None;
    }
    let j = j + 6;
    let (q, j) = if *b.get(j)? == b'"' {
        let (q, j) = plain_dec(b, j + 1, Qty::DECIMALS)?;
        if *b.get(j)? != b'"' {
            return None;
        }
        (q, j + 1)
    } else {
        if *b.get(j)? == b'0' && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let (q, j2) = plain_dec(b, j, Qty::DECIMALS)?;
        // a fraction is valid JSON too, but keep the unquoted fast path to integers
        if b[j..j2].contains(&b'.') {
            return None;
        }
        (q, j2)
    };
    if *b.get(j)? != b'}' {
        return None;
    }
    Some((p, q, j + 1))
}

#[inline]
fn text(frame: &[u8], s: Span) -> R<&str> {
    std::str::from_utf8(&frame[s.start as usize..s.end as usize]).ok()
}

/// Scan `frame`; on success emit to `sink` and return `Done`. On `Defer` nothing was emitted.
#[inline]
pub(crate) fn try_decode<S: Sink>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fixed_of(text: &[u8], decimals: u32) -> Option<i64> {
        let mut c = Cur { b: text, i: 0 };
        let v = c.fixed(decimals)?;
        // the whole token must have been consumed
        assert_eq!(c.i, text.len(), "{:?}", String::from_utf8_lossy(text));
        Some(v)
    }

    fn reference(text: &[u8], decimals: u32) -> Option<i64> {
        let inner = if text.first() == Some(&b'"') {
            let s = text.get(1..text.len().checked_sub(1)?)?;
            if s.iter()
                .any(|&c| c < 0x20 || c == b'\\' || c >= 0x80 || c == b'"')
            {
                return None;
            }
            s
        } else {
            text
        };
        parse_fixed(inner, decimals, false).ok()
    }

    #[test]
    fn fixed_fast_path_edges_match_parse_fixed() {
        let cases: &[&[u8]] = &[
            b"\"0\"",
            b"\"00.10\"",
            b"\"1.\"",
            b"\".5\"",
            b"\"\"",
            b"\"-1\"",
            b"\"+1\"",
            b"\"123456789012345678\"",
            b"\"1234567890123456789\"",
            b"\"92233720368.54775807\"",
            b"\"92233720368.54775808\"",
            b"\"922337203.6854775807\"",
            b"\"922337203.6854775808\"",
            b"\"0.0000000001\"",
            b"\"0.00000000010\"",
            b"\"0.00000000001\"",
            b"\"1e5\"",
            b"\"1.5E-3\"",
            b"\"19137.740\"",
            b"\"0.000000000000000000\"",
            b"\"1.2.3\"",
            b"\"104027.1\"",
            b"\"509392\"",
            b"12",
            b"1.25e-05",
            b"40000.4",
            b"0",
            b"-3",
        ];
        for &t in cases {
            for dec in [8, 10] {
                let want = reference(t, dec);
                let mut c = Cur { b: t, i: 0 };
                let got = c.fixed(dec);
                assert_eq!(got, want, "{:?} dec {dec}", String::from_utf8_lossy(t));
            }
        }
        assert_eq!(fixed_of(b"\"40000.4\"", 10), Some(400_004_000_000_000));
    }

    proptest! {
        #[test]
        fn fixed_matches_parse_fixed(body in "[0-9.]{0,24}", dec in prop::sample::select(vec![8u32, 10])) {
            let t = format!("\"{body}\"");
            let mut c = Cur { b: t.as_bytes(), i: 0 };
            prop_assert_eq!(c.fixed(dec), reference(t.as_bytes(), dec));
        }
    }
}
