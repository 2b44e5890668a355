//! `cexfeed decode --venue mexc|gateio --market spot|futures [FILE|-]`: decode captured frames
//! into one JSON object per line (the format is in `crate::jsonl`). A frame that fails writes
//! `{"kind":"error","error":"<reason>"}` and decoding goes on; exit status 1 if any failed.

use crate::jsonl::{error_line, split_frames, InputFrame, JsonLines};
use anyhow::{bail, Context, Result};
use cexfeed::exchange::{gateio, mexc};
use cexfeed::types::{Market, Venue};
use clap::Args;
use std::io::{Read, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DecodeArgs {
    /// mexc or gateio.
    #[arg(long)]
    pub venue: String,
    /// spot or futures.
    #[arg(long, default_value = "spot")]
    pub market: String,
    /// Symbol for REST order-book snapshots (their bodies do not name it).
    #[arg(long, default_value = "")]
    pub symbol: String,
    /// Input file; `-` or nothing reads standard input.
    pub input: Option<PathBuf>,
}

/// Returns whether every frame decoded.
pub fn decode(a: DecodeArgs) -> Result<bool> {
    let venue = Venue::parse(&a.venue)
        .with_context(|| format!("--venue {:?}: expected mexc or gateio", a.venue))?;
    let market = Market::parse(&a.market)
        .with_context(|| format!("--market {:?}: expected spot or futures", a.market))?;
    if venue == Venue::Mexc && market != Market::Spot {
        bail!("--market futures: mexc is spot only");
    }
    let mut input = Vec::new();
    match a.input.as_deref() {
        None => std::io::stdin().read_to_end(&mut input)?,
        Some(p) if p.as_os_str() == "-" => std::io::stdin().read_to_end(&mut input)?,
        Some(p) => std::fs::File::open(p)
            .with_context(|| format!("cannot open {}", p.display()))?
            .read_to_end(&mut input)?,
    };
    let mut sink = JsonLines::new(venue, market);
    let mut gate = gateio::GateDecoder::new(market, 10_000);
    let mut mx = mexc::MexcDecoder::new(10_000);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut all_ok = true;
    for frame in split_frames(&input) {
        let before = sink.events;
        let result = decode_frame(&frame, venue, &a.symbol, &mut gate, &mut mx, &mut sink);
        match result {
            Ok(()) => {
                if sink.events == before {
                    // Decoded, nothing to show (e.g. a retired MEXC body, which is skipped).
                }
                out.write_all(sink.take().as_bytes())?;
            }
            Err(reason) => {
                all_ok = false;
                let _ = sink.take();
                writeln!(out, "{}", error_line(venue, market, &reason))?;
            }
        }
    }
    out.flush()?;
    Ok(all_ok)
}

/// Decode one frame into `sink` (shared by `decode` and `export`): `symbol` names a REST
/// snapshot's book (the body does not).
pub fn decode_frame(
    frame: &InputFrame<'_>,
    venue: Venue,
    symbol: &str,
    gate: &mut gateio::GateDecoder,
    mx: &mut mexc::MexcDecoder,
    sink: &mut JsonLines,
) -> Result<(), String> {
    match (frame, venue) {
        (InputFrame::Bad(reason), _) => Err(reason.clone()),
        (InputFrame::Binary(bytes), Venue::Mexc) => {
            mx.decode_binary(bytes, sink).map_err(|e| e.to_string())
        }
        (InputFrame::Binary(_), Venue::Gateio) => {
            Err("binary frame given for gateio (JSON only)".into())
        }
        (InputFrame::Json(text), Venue::Gateio) if is_rest_snapshot(text) => {
            gateio::decode_rest_snapshot(text, symbol, 10_000, sink)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        (InputFrame::Json(text), Venue::Gateio) => {
            gate.decode(text, sink).map_err(|e| e.to_string())
        }
        (InputFrame::Json(text), Venue::Mexc) if is_rest_snapshot(text) => {
            match mexc::parse_depth_snapshot(200, text) {
                Ok(snap) => {
                    cexfeed::event::Sink::book(sink, &snap.book_msg(symbol));
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            }
        }
        (InputFrame::Json(text), Venue::Mexc) => {
            mx.decode_text(text, sink).map_err(|e| e.to_string())
        }
    }
}

/// A REST order-book body: an object with `bids`/`asks` and an id, and no `channel`.
fn is_rest_snapshot(text: &[u8]) -> bool {
    let has = |k: &[u8]| text.windows(k.len()).any(|w| w == k);
    !has(b"\"channel\"") && has(b"\"bids\"") && (has(b"\"lastUpdateId\"") || has(b"\"id\""))
}
