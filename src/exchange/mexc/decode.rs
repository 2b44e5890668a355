//! Push decoder: binary `PushDataV3ApiWrapper` frames (field walker, hot path) and JSON control
//! text frames (acks, PONG, rejections; cold-ish path). Both allocate nothing per message.
//!
//! The binary path makes two passes over the wrapper's bytes and none over what it skips:
//! pass 1 walks the wrapper's top-level fields (channel, symbol, times, body location — a body is
//! stepped over by its length prefix); pass 2 walks the body it handles. Prices and sizes are
//! parsed from the string bytes straight into [`Px`]/[`Qty`].
//!
//! Protobuf semantics kept exactly as prost applies them, so the walker and the prost reference
//! (test support: `tests/support/mexc/prost_ref.rs`, differential tests in `tests/decode/mexc_golden.rs`
//! and `tests/decode/mexc_fuzz_smoke.rs`) produce the same events whenever prost accepts a frame: last value wins for scalars; repeated items accumulate; repeated occurrences of the
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
//! | 308 publicSpotKline | [`KlineMsg`] | seconds × 1000; closed = push time ≥ windowEnd |
//! | 301 302 305 312, unknown | nothing | skipped cleanly (`Ok`) |
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

use super::public::{self, Levels};
use super::wire::{Chunks, Fields, Head};
use super::{control, private};
use crate::event::{DecodeError, Sink};

/// Capacity of the scratch used to unescape JSON strings in control frames.
pub const CONTROL_TEXT_CAPACITY: usize = 4096;

/// Body field numbers of the wrapper's `oneof body`.
pub mod body {
    /// `publicDeals`: legacy non-aggregated trades (retired; skipped).
    pub const PUBLIC_DEALS: u32 = 301;
    /// `publicIncreaseDepths`: legacy non-aggregated depth diff (retired; skipped).
    pub const PUBLIC_INCREASE_DEPTHS: u32 = 302;
    /// `publicLimitDepths`: limited-depth snapshot (`limit.depth`), carries `version`.
    pub const PUBLIC_LIMIT_DEPTHS: u32 = 303;
    /// `privateOrders`: own order updates.
    pub const PRIVATE_ORDERS: u32 = 304;
    /// `publicBookTicker`: legacy non-aggregated best bid/offer (retired; skipped).
    pub const PUBLIC_BOOK_TICKER: u32 = 305;
    /// `privateDeals`: own fills.
    pub const PRIVATE_DEALS: u32 = 306;
    /// `privateAccount`: balance changes.
    pub const PRIVATE_ACCOUNT: u32 = 307;
    /// `publicSpotKline`: candles (skipped).
    pub const PUBLIC_SPOT_KLINE: u32 = 308;
    /// `publicMiniTicker`: one symbol's 3 s mini ticker.
    pub const PUBLIC_MINI_TICKER: u32 = 309;
    /// `publicMiniTickers`: every symbol's mini ticker.
    pub const PUBLIC_MINI_TICKERS: u32 = 310;
    /// `publicBookTickerBatch`: best bid/offer items, batch `version`.
    pub const PUBLIC_BOOK_TICKER_BATCH: u32 = 311;
    /// `publicIncreaseDepthsBatch`: batched depth diffs (undocumented now; skipped).
    pub const PUBLIC_INCREASE_DEPTHS_BATCH: u32 = 312;
    /// `publicAggreDepths`: aggregated depth diff, `fromVersion`/`toVersion`.
    pub const PUBLIC_AGGRE_DEPTHS: u32 = 313;
    /// `publicAggreDeals`: trades per 10/100 ms window.
    pub const PUBLIC_AGGRE_DEALS: u32 = 314;
    /// `publicAggreBookTicker`: aggregated best bid/offer, `version` shared with depth.
    pub const PUBLIC_AGGRE_BOOK_TICKER: u32 = 315;
}

/// MEXC push decoder. One per connection (owns the level scratch and the control-text scratch,
/// both sized at construction). Not `Sync`; cheap to keep per feed thread.
#[derive(Debug)]
pub struct MexcDecoder {
    levels: Levels,
    text: String,
}

impl MexcDecoder {
    /// A decoder whose book scratch holds `max_levels` per side; a depth push with more levels
    /// on a side fails with `DecodeError::TooLarge`. Allocates here only.
    pub fn new(max_levels: usize) -> Self {
        MexcDecoder {
            levels: Levels::new(max_levels),
            text: String::with_capacity(CONTROL_TEXT_CAPACITY),
        }
    }

    /// Levels per side the scratch holds.
    pub fn max_levels(&self) -> usize {
        self.levels.max()
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
            body::PUBLIC_AGGRE_DEPTHS => self.levels.walk_depth(chunks, &head, false, sink),
            body::PUBLIC_LIMIT_DEPTHS => self.levels.walk_depth(chunks, &head, true, sink),
            body::PUBLIC_AGGRE_DEALS => public::walk_deals(chunks, &head, sink),
            body::PUBLIC_AGGRE_BOOK_TICKER => public::walk_bbo(chunks, &head, sink),
            body::PUBLIC_BOOK_TICKER_BATCH => public::walk_bbo_batch(chunks, &head, sink),
            body::PUBLIC_MINI_TICKER => public::walk_mini_ticker(chunks, &head, sink),
            body::PUBLIC_MINI_TICKERS => public::walk_mini_tickers(chunks, &head, sink),
            body::PRIVATE_ORDERS => private::walk_order(chunks, &head, sink),
            body::PRIVATE_DEALS => private::walk_fill(chunks, &head, sink),
            body::PRIVATE_ACCOUNT => private::walk_account(chunks, &head, sink),
            body::PUBLIC_SPOT_KLINE => public::walk_kline(chunks, &head, sink),
            // 301, 302, 305 (retired), 312 (hidden batch): not consumed.
            _ => Ok(()),
        }
    }

    /// Decode a JSON control text frame: ack, PONG, rejection (`Not Subscribed successfully!`,
    /// code 0) or error (non-zero code). Allocation-free (escaped text is unescaped into a
    /// scratch of [`CONTROL_TEXT_CAPACITY`] bytes).
    pub fn decode_text<S: Sink>(&mut self, frame: &[u8], sink: &mut S) -> Result<(), DecodeError> {
        control::decode(frame, &mut self.text, sink)
    }
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
