//! [`GateDecoder`]: every frame a Gate.io v4 spot or USDT-futures socket sends → [`Sink`].
//!
//! Two paths:
//! * the **scanner** ([`super::public`]) for the hottest push channels (`*.obu`,
//!   `*.order_book_update`, `*.book_ticker`, `*.trades`): bytes → fixed-point in one pass, no
//!   DOM; on anything unusual it defers;
//! * the **general path**: simd-json tape over a reusable copy of the frame (simd-json mutates
//!   its input), walked by hand; numbers re-read as text from the frame ([`super::wire::Doc`]).
//!
//! Both allocate nothing per message once the scratch buffers have grown to the largest frame
//! seen (sized at construction for `max_levels`).

use simd_json::Tape;

use super::channel::{channel_kind, Kind};
use super::wire::{Doc, Levels};
use super::{control, private, public};
use crate::event::{DecodeError, Sink};
use crate::types::Market;

/// Decoder for one Gate.io socket (spot or futures). Owns all scratch; reuse it for every frame.
pub struct GateDecoder {
    market: Market,
    levels: Levels,
    buf: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: Tape<'static>,
    pos: Vec<u32>,
    scan: public::Scratch,
    use_scanner: bool,
    stats: DecodeStats,
    /// Frame size the scratch is sized for; a larger frame grows it, and it is rebuilt at this
    /// size right after that frame (see [`GateDecoder::scratch_bytes`]).
    frame_bytes: usize,
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
        let (buffers, tape) = warm_simd(frame_bytes);
        GateDecoder {
            market,
            levels: Levels::new(max_levels),
            buf: Vec::with_capacity(frame_bytes + simd_json::INPUT_PADDING),
            buffers,
            tape,
            pos: Vec::with_capacity(frame_bytes / 4),
            scan: public::Scratch::new(SCAN_MAX_TRADES),
            use_scanner: true,
            stats: DecodeStats::default(),
            frame_bytes,
        }
    }

    /// Bytes of scratch this decoder holds for the simd-json path (its copy of the frame, the
    /// tape, the position index; simd-json's own buffers grow alike). Bounded by the configured
    /// frame size between frames: a larger frame grows it, and it is rebuilt right after.
    pub fn scratch_bytes(&self) -> usize {
        self.buf.capacity()
            + self.pos.capacity() * std::mem::size_of::<u32>()
            + self.tape.0.capacity() * std::mem::size_of::<simd_json::Node<'static>>()
    }

    /// After a frame larger than the configured size: give its scratch back (cold; one
    /// rebuild, as at construction), so one huge frame is not retained.
    #[cold]
    fn shrink_scratch(&mut self) {
        let (buffers, tape) = warm_simd(self.frame_bytes);
        self.buffers = buffers;
        self.tape = tape;
        self.buf = Vec::with_capacity(self.frame_bytes + simd_json::INPUT_PADDING);
        self.pos = Vec::with_capacity(self.frame_bytes / 4);
    }

    /// Counters since construction.
    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// Market this decoder was built for (spot and futures payloads differ).
    pub fn market(&self) -> Market {
        self.market
    }

    /// Levels per book side the scratch holds; a deeper push is `DecodeError::TooLarge`.
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
            if let public::Outcome::Done =
                public::try_decode(frame, &mut self.levels, &mut self.scan, sink)
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
            public::try_decode(frame, &mut self.levels, &mut self.scan, sink),
            public::Outcome::Done
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
        if len > self.frame_bytes {
            self.shrink_scratch();
        }
        res
    }
}

/// simd-json buffers and a tape warmed to `frame_bytes`, so the first frame of that size does
/// not allocate (structural index / stack vectors grow on first use otherwise).
fn warm_simd(frame_bytes: usize) -> (simd_json::Buffers, Tape<'static>) {
    let mut buffers = simd_json::Buffers::new(frame_bytes);
    let mut warm = Vec::with_capacity(frame_bytes);
    warm.extend_from_slice(b"{\"a\":[");
    while warm.len() + 16 < frame_bytes {
        warm.extend_from_slice(b"[\"1\",\"2\"],");
    }
    warm.extend_from_slice(b"[\"1\",\"2\"]]}");
    let mut tape = Tape::null().reset();
    let _ = simd_json::fill_tape(&mut warm, &mut buffers, &mut tape);
    (buffers, tape.reset())
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
        return control::ws_api(d, h, data, request_id, sink);
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
    if let Some(r) = control::envelope(d, ch, ev, req_id, payload, error, result, sink) {
        return r;
    }
    let (market, kind) = channel_kind(ch.as_bytes()).ok_or(DecodeError::UnknownChannel)?;
    let r = result.ok_or(DecodeError::MissingField("result"))?;
    // Envelope time: only tickers use it (their result has no timestamp); a malformed or null
    // envelope time never costs a book update.
    let env_ms = time_ms.and_then(|t| d.ms_at(t, "time_ms").ok());
    match kind {
        Kind::Obu | Kind::Update => public::book_update(d, r, kind == Kind::Obu, lv, sink),
        Kind::OrderBook => public::book_snapshot(d, r, ev, lv, sink),
        Kind::Trades => public::trades(d, r, market, sink),
        Kind::BookTicker => public::bbo(d, r, sink),
        Kind::Tickers => public::tickers(d, r, env_ms, sink),
        Kind::Orders => match market {
            Market::Spot => private::spot_orders(d, r, sink),
            Market::Futures => private::futures_orders(d, r, sink),
        },
        Kind::UserTrades => match market {
            Market::Spot => private::spot_usertrades(d, r, sink),
            Market::Futures => private::futures_usertrades(d, r, sink),
        },
        Kind::Balances => match market {
            Market::Spot => private::spot_balances(d, r, sink),
            Market::Futures => private::futures_balances(d, r, sink),
        },
        Kind::Positions => private::positions(d, r, sink),
        Kind::Candlesticks => public::candlesticks(d, r, market, env_ms, sink),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13, finding 6: `*.system` notices are control frames (`Notice`), not decode
    /// errors; frame as Gate documents it (futures WS v4 service upgrade notice).
    #[test]
    fn issue13_finding6_system_notice_is_a_notice_not_an_error() {
        use crate::event::{ControlKind, ControlMsg};
        #[derive(Default)]
        struct Seen(Vec<(ControlKind, String, String)>);
        impl Sink for Seen {
            fn control(&mut self, m: &ControlMsg<'_>) {
                self.0.push((
                    m.kind,
                    m.payload0.unwrap_or("").to_string(),
                    m.message.unwrap_or("").to_string(),
                ));
            }
        }
        for (market, ch) in [(Market::Futures, "futures"), (Market::Spot, "spot")] {
            let frame = format!(
                r#"{{"time":1782378978,"time_ms":1782378978107,"channel":"{ch}.system","event":"update","result":{{"type":"upgrade","msg":"The connection will soon be closed for a service upgrade. Please reconnect."}}}}"#
            );
            let mut d = GateDecoder::new(market, 50);
            let mut seen = Seen::default();
            assert_eq!(d.decode(frame.as_bytes(), &mut seen), Ok(()));
            assert_eq!(seen.0.len(), 1);
            assert_eq!(seen.0[0].0, ControlKind::Notice);
            assert_eq!(seen.0[0].1, "upgrade");
            assert!(seen.0[0]
                .2
                .starts_with("The connection will soon be closed"));
            assert_eq!(d.stats().errors, 0);
        }
    }

    #[test]
    fn decoder_is_send() {
        fn is_send<T: Send>() {}
        is_send::<GateDecoder>();
    }
}
