//! [`GateDecoder`]: every frame a Gate.io v4 spot or USDT-futures socket sends → [`Sink`].
//!
//! Two paths:
//! * the **scanner** ([`super::scan`]) for the hottest push channels (`*.obu`,
//!   `*.order_book_update`, `*.book_ticker`, `*.trades`): bytes → fixed-point in one pass, no
//!   DOM; on anything unusual it defers;
//! * the **general path**: simd-json tape over a reusable copy of the frame (simd-json mutates
//!   its input), walked by hand; numbers re-read as text from the frame ([`super::tape`]).
//!
//! Both allocate nothing per message once the scratch buffers have grown to the largest frame
//! seen (sized at construction for `max_levels`).

use simd_json::{Node, Tape};

use super::scan;
use super::tape::Doc;
use crate::event::{
    BboMsg, BookMsg, ControlKind, ControlMsg, DecodeError, Level, Sink, TickerMsg, TradeMsg,
};
use crate::types::{Market, Px, Qty, Side};

/// Level scratch shared by both paths (fixed capacity, sized at construction).
pub(crate) struct Levels {
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub max: usize,
}

impl Levels {
    fn new(max: usize) -> Self {
        Levels {
            bids: Vec::with_capacity(max),
            asks: Vec::with_capacity(max),
            max,
        }
    }
}

/// Decoder for one Gate.io socket (spot or futures). Owns all scratch; reuse it for every frame.
pub struct GateDecoder {
    market: Market,
    levels: Levels,
    buf: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: Tape<'static>,
    pos: Vec<u32>,
    scan: scan::Scratch,
    use_scanner: bool,
    stats: DecodeStats,
}

/// Path counters (plain integers, no atomics: the decoder lives on one thread). A rising
/// `scan_deferred` on hot channels means the venue changed its format (escapes, new shapes) and
/// frames fall back to the slower simd-json path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Frames fully decoded by the scanner.
    pub scanned: u64,
    /// Frames the scanner handed to the simd-json path (all non-hot channels included).
    pub scan_deferred: u64,
    /// Frames that ended in a `DecodeError` (through [`GateDecoder::decode`]).
    pub errors: u64,
}

impl std::fmt::Debug for GateDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GateDecoder")
            .field("market", &self.market)
            .field("max_levels", &self.levels.max)
            .field("use_scanner", &self.use_scanner)
            .finish()
    }
}

/// Largest number of trades one `futures.trades` push may carry on the scanner path (more →
/// general path, which has no limit).
pub const SCAN_MAX_TRADES: usize = 32;

impl GateDecoder {
    /// `max_levels`: most levels per side in one book message (400 for `ob.*.400`; a REST
    /// snapshot is decoded elsewhere). Scratch for frames of that size is allocated here.
    pub fn new(market: Market, max_levels: usize) -> Self {
        // ~48 bytes per level on the wire for both sides plus envelope.
        let frame_bytes = 4096 + max_levels * 2 * 48;
        let mut buffers = simd_json::Buffers::new(frame_bytes);
        // Warm simd-json's internal buffers to the expected size so the first big frame does
        // not allocate (structural index / stack vectors grow on first use otherwise).
        let mut warm = Vec::with_capacity(frame_bytes);
        warm.extend_from_slice(b"{\"a\":[");
        while warm.len() + 16 < frame_bytes {
            warm.extend_from_slice(b"[\"1\",\"2\"],");
        }
        warm.extend_from_slice(b"[\"1\",\"2\"]]}");
        let mut tape = Tape::null().reset();
        let mut copy = warm.clone();
        let _ = simd_json::fill_tape(&mut copy, &mut buffers, &mut tape);
        let tape = tape.reset();
        GateDecoder {
            market,
            levels: Levels::new(max_levels),
            buf: Vec::with_capacity(frame_bytes + simd_json::INPUT_PADDING),
            buffers,
            tape,
            pos: Vec::with_capacity(frame_bytes / 4),
            scan: scan::Scratch::new(SCAN_MAX_TRADES),
            use_scanner: true,
            stats: DecodeStats::default(),
        }
    }

    /// Counters since construction.
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    pub fn market(&self) -> Market {
        self.market
    }

    pub fn max_levels(&self) -> usize {
        self.levels.max
    }

    /// Turn the schema-specific scanner on (default) or off (everything via simd-json).
    pub fn set_scanner(&mut self, on: bool) {
        self.use_scanner = on;
    }

    /// Decode one text frame. Emits zero or more messages to `sink`; on `Err` nothing from a
    /// scanner attempt was emitted (the general path may have emitted earlier array elements).
    #[inline]
    pub fn decode<S: Sink>(&mut self, frame: &[u8], sink: &mut S) -> Result<(), DecodeError> {
        if self.use_scanner {
            if let scan::Outcome::Done =
                scan::try_decode(frame, &mut self.levels, &mut self.scan, sink)
            {
                self.stats.scanned += 1;
                return Ok(());
            }
            self.stats.scan_deferred += 1;
        }
        let r = self.decode_general(frame, sink);
        if r.is_err() {
            self.stats.errors += 1;
        }
        r
    }

    /// Scanner only: `true` when it decoded the frame, `false` when it deferred (nothing
    /// emitted). For benches and differential tests.
    pub fn decode_scan_only<S: Sink>(&mut self, frame: &[u8], sink: &mut S) -> bool {
        matches!(
            scan::try_decode(frame, &mut self.levels, &mut self.scan, sink),
            scan::Outcome::Done
        )
    }

    /// The simd-json path only.
    pub fn decode_general<S: Sink>(
        &mut self,
        frame: &[u8],
        sink: &mut S,
    ) -> Result<(), DecodeError> {
        if frame.len() > u32::MAX as usize / 2 {
            return Err(DecodeError::TooLarge);
        }
        // simd-json mutates its input (in-place unescaping), so parse a copy; the copy carries
        // the padding simd-json needs, which lets `fill_tape_padded` skip its own second copy.
        let len = frame.len();
        self.buf.clear();
        self.buf.extend_from_slice(frame);
        self.buf.resize(len + simd_json::INPUT_PADDING, b' ');
        let mut tape: Tape<'_> = std::mem::replace(&mut self.tape, Tape(Vec::new())).reset();
        let res =
            match simd_json::fill_tape_padded(&mut self.buf, len, &mut self.buffers, &mut tape) {
                Err(_) => Err(DecodeError::Malformed),
                Ok(()) => {
                    let mut doc = Doc::new(
                        &tape.0,
                        frame,
                        self.buffers.structural_indexes(),
                        &mut self.pos,
                    );
                    dispatch(&mut doc, &mut self.levels, sink)
                }
            };
        self.tape = tape.reset();
        res
    }
}

/// Strip `ob.` and a trailing `.<digits>` from an obu stream name (`ob.BTC_USDT.50` → `BTC_USDT`).
#[inline]
pub(crate) fn obu_symbol(s: &str) -> &str {
    let Some(rest) = s.strip_prefix("ob.") else {
        return s;
    };
    match rest.rsplit_once('.') {
        Some((pair, depth)) if !depth.is_empty() && depth.bytes().all(|c| c.is_ascii_digit()) => {
            pair
        }
        _ => rest,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Obu,
    Update,
    OrderBook,
    Trades,
    BookTicker,
    Tickers,
    Orders,
    UserTrades,
    Balances,
    Positions,
}

/// `spot.obu` → (Spot, Obu).
#[inline]
pub(crate) fn channel_kind(ch: &[u8]) -> Option<(Market, Kind)> {
    let (m, rest) = if let Some(r) = ch.strip_prefix(b"spot.") {
        (Market::Spot, r)
    } else if let Some(r) = ch.strip_prefix(b"futures.") {
        (Market::Futures, r)
    } else {
        return None;
    };
    let k = match rest {
        b"obu" => Kind::Obu,
        b"order_book_update" => Kind::Update,
        b"order_book" => Kind::OrderBook,
        b"trades" => Kind::Trades,
        b"book_ticker" => Kind::BookTicker,
        b"tickers" => Kind::Tickers,
        b"orders" => Kind::Orders,
        b"usertrades" => Kind::UserTrades,
        b"balances" => Kind::Balances,
        b"positions" => Kind::Positions,
        _ => return None,
    };
    Some((m, k))
}

fn dispatch<S: Sink>(
    d: &mut Doc<'_, '_>,
    lv: &mut Levels,
    sink: &mut S,
) -> Result<(), DecodeError> {
    if d.obj_len(0).is_none() {
        return Err(DecodeError::WrongType("root"));
    }
    let (mut channel, mut event, mut result, mut error, mut header) =
        (None, None, None, None, None);
    let (mut data, mut id, mut payload, mut auth, mut time_ms, mut request_id) =
        (None, None, None, false, None, None);
    for (k, v) in d.fields(0) {
        match k {
            "channel" => channel = Some(v),
            "event" => event = Some(v),
            "result" => result = Some(v),
            "error" => error = Some(v),
            "header" => header = Some(v),
            "data" => data = Some(v),
            "id" => id = Some(v),
            "payload" => payload = Some(v),
            "auth" => auth = true,
            "time_ms" => time_ms = Some(v),
            "request_id" => request_id = Some(v),
            _ => {}
        }
    }
    if let Some(h) = header {
        return ws_api(d, h, data, request_id, sink);
    }
    let ch_i = channel.ok_or(DecodeError::MissingField("channel"))?;
    let ch = d.str_at(ch_i).ok_or(DecodeError::WrongType("channel"))?;
    let ev = match event {
        Some(e) => Some(d.str_at(e).ok_or(DecodeError::WrongType("event"))?),
        None => None,
    };
    let req_id = id.and_then(|i| d.u64_at(i, "id").ok());
    if auth {
        // A client request (ours echoed in a capture), not something the server sends.
        return Err(DecodeError::UnknownChannel);
    }
    let payload0 = match payload {
        Some(p) if d.arr_len(p).is_some_and(|n| n > 0) => d.text_at(p + 1),
        _ => None,
    };
    if let Some(e) = error {
        if !d.is_null(e) {
            if d.obj_len(e).is_none() {
                return Err(DecodeError::WrongType("error"));
            }
            let code = match d.get(e, "code") {
                Some(c) => match d.node(c) {
                    Some(Node::Static(simd_json::StaticNode::I64(v))) => Some(v),
                    Some(Node::Static(simd_json::StaticNode::U64(v))) => i64::try_from(v).ok(),
                    _ => return Err(DecodeError::WrongType("code")),
                },
                None => None,
            };
            let message = d.get(e, "message").and_then(|m| d.str_at(m));
            sink.control(&ControlMsg {
                kind: ControlKind::Error,
                channel: Some(ch),
                event: ev,
                message,
                req_id,
                code,
                payload0,
            });
            return Ok(());
        }
    }
    if matches!(ev, Some("subscribe") | Some("unsubscribe")) {
        if result.is_none() && error.is_none() {
            // A request frame (no result, no error): not a server message.
            return Err(DecodeError::UnknownChannel);
        }
        let failed = result
            .and_then(|r| d.get(r, "status"))
            .and_then(|s| d.str_at(s))
            == Some("fail");
        sink.control(&ControlMsg {
            kind: if failed {
                ControlKind::Error
            } else {
                ControlKind::Ack
            },
            channel: Some(ch),
            event: ev,
            message: None,
            req_id,
            code: None,
            payload0,
        });
        return Ok(());
    }
    if ch.ends_with(".pong") {
        sink.control(&ControlMsg {
            kind: ControlKind::Pong,
            channel: Some(ch),
            event: ev.filter(|e| !e.is_empty()),
            message: None,
            req_id,
            code: None,
            payload0: None,
        });
        return Ok(());
    }
    let (market, kind) = channel_kind(ch.as_bytes()).ok_or(DecodeError::UnknownChannel)?;
    let r = result.ok_or(DecodeError::MissingField("result"))?;
    // Envelope time: only tickers use it (their result has no timestamp); a malformed or null
    // envelope time never costs a book update.
    let env_ms = time_ms.and_then(|t| d.ms_at(t, "time_ms").ok());
    match kind {
        Kind::Obu | Kind::Update => book_update(d, r, kind == Kind::Obu, lv, sink),
        Kind::OrderBook => book_snapshot(d, r, ev, lv, sink),
        Kind::Trades => trades(d, r, market, sink),
        Kind::BookTicker => bbo(d, r, sink),
        Kind::Tickers => tickers(d, r, env_ms, sink),
        Kind::Orders => match market {
            Market::Spot => super::private::spot_orders(d, r, sink),
            Market::Futures => super::private::futures_orders(d, r, sink),
        },
        Kind::UserTrades => match market {
            Market::Spot => super::private::spot_usertrades(d, r, sink),
            Market::Futures => super::private::futures_usertrades(d, r, sink),
        },
        Kind::Balances => match market {
            Market::Spot => super::private::spot_balances(d, r, sink),
            Market::Futures => super::private::futures_balances(d, r, sink),
        },
        Kind::Positions => super::private::positions(d, r, sink),
    }
}

/// WS-API response (`spot.login` …): `{request_id, header:{status,channel,event}, data:{result|errs}}`.
fn ws_api<S: Sink>(
    d: &mut Doc<'_, '_>,
    h: usize,
    data: Option<usize>,
    request_id: Option<usize>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    if d.obj_len(h).is_none() {
        return Err(DecodeError::WrongType("header"));
    }
    let channel = d.get(h, "channel").and_then(|c| d.str_at(c));
    let event = d.get(h, "event").and_then(|c| d.str_at(c));
    let status = match d.get(h, "status") {
        Some(s) => Some(d.u64_at(s, "status")?),
        None => None,
    };
    let req_id = request_id.and_then(|r| d.u64_at(r, "request_id").ok());
    let data = data.ok_or(DecodeError::MissingField("data"))?;
    if let Some(errs) = d.get(data, "errs") {
        sink.control(&ControlMsg {
            kind: ControlKind::Error,
            channel,
            event,
            message: d.get(errs, "message").and_then(|m| d.str_at(m)),
            req_id,
            code: status.map(|s| s as i64),
            payload0: d.get(errs, "label").and_then(|m| d.str_at(m)),
        });
        return Ok(());
    }
    let uid = match d.get(data, "result") {
        Some(r) if d.obj_len(r).is_some() => match d.get(r, "uid") {
            Some(u) => d.text_at(u),
            None => None,
        },
        _ => None,
    };
    let ok = status.is_none_or(|s| (200..300).contains(&s));
    sink.control(&ControlMsg {
        kind: if ok {
            ControlKind::Ack
        } else {
            ControlKind::Error
        },
        channel,
        event,
        message: None,
        req_id,
        code: if ok { None } else { status.map(|s| s as i64) },
        payload0: uid,
    });
    Ok(())
}

/// Book levels `[["p","q"],…]` or `[{"p":…,"s":…},…]` into `out` (cleared first).
pub(crate) fn levels(
    d: &mut Doc<'_, '_>,
    arr: usize,
    out: &mut Vec<Level>,
    max: usize,
    field: &'static str,
) -> Result<(), DecodeError> {
    out.clear();
    let n = d.arr_len(arr).ok_or(DecodeError::WrongType(field))?;
    if n > max {
        return Err(DecodeError::TooLarge);
    }
    let mut e = arr + 1;
    for _ in 0..n {
        let (pi, si) = if let Some(m) = d.arr_len(e) {
            if m < 2 {
                return Err(DecodeError::WrongType(field));
            }
            (e + 1, d.skip(e + 1))
        } else if d.obj_len(e).is_some() {
            let mut p = None;
            let mut s = None;
            for (k, v) in d.fields(e) {
                match k {
                    "p" => p = Some(v),
                    "s" => s = Some(v),
                    _ => {}
                }
            }
            (
                p.ok_or(DecodeError::MissingField("p"))?,
                s.ok_or(DecodeError::MissingField("s"))?,
            )
        } else {
            return Err(DecodeError::WrongType(field));
        };
        let px = d.pxu(pi, field)?;
        let qty = d.qty(si, field)?;
        out.push(Level { px, qty });
        e = d.skip(e);
    }
    Ok(())
}

fn book_update<S: Sink>(
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
fn book_snapshot<S: Sink>(
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

pub(crate) fn side_of(s: &str) -> Result<Side, DecodeError> {
    match s {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        _ => Err(DecodeError::WrongType("side")),
    }
}

/// Signed futures size → (side, |size|). Zero has no side.
pub(crate) fn signed_size(q: Qty) -> Result<(Side, Qty), DecodeError> {
    if q.0 > 0 {
        Ok((Side::Buy, q))
    } else if q.0 < 0 && q.0 != i64::MIN {
        Ok((Side::Sell, Qty(-q.0)))
    } else {
        Err(DecodeError::WrongType("size"))
    }
}

fn trades<S: Sink>(
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

fn bbo<S: Sink>(d: &mut Doc<'_, '_>, r: usize, sink: &mut S) -> Result<(), DecodeError> {
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

fn tickers<S: Sink>(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoder_is_send() {
        fn is_send<T: Send>() {}
        is_send::<GateDecoder>();
    }

    #[test]
    fn obu_symbol_strips_prefix_and_depth() {
        assert_eq!(obu_symbol("ob.BTC_USDT.50"), "BTC_USDT");
        assert_eq!(obu_symbol("ob.BTC_USDT.400"), "BTC_USDT");
        assert_eq!(obu_symbol("ob.BTC_USDT"), "BTC_USDT");
        assert_eq!(obu_symbol("ob.A.B.x"), "A.B.x");
        assert_eq!(obu_symbol("BTC_USDT"), "BTC_USDT");
    }
}
