//! Shared helpers for the Gate.io tests: fixture loading and a collecting sink.
#![allow(dead_code)]

use cexfeed::event::*;
use cexfeed::exchange::gateio::GateDecoder;
use cexfeed::types::{Dec, Market, Px, Qty, Side};

/// Split a fixture file into its JSON values (separated by blank lines).
pub fn frames(name: &str) -> Vec<Vec<u8>> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.trim().is_empty() {
                out.push(cur.trim().as_bytes().to_vec());
            }
            cur.clear();
        } else {
            cur.push_str(line);
            cur.push('\n');
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().as_bytes().to_vec());
    }
    out
}

pub fn fixture_names() -> Vec<String> {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| (n.starts_with("gateio_") || n.starts_with("gateus_")) && n.ends_with(".json"))
        .collect();
    v.sort();
    v
}

pub use super::events::{Collect, Ev};

/// Decode with the default decoder (scanner on) and with the general path only; assert both
/// agree (when the scanner takes the frame, it must produce what simd-json would).
pub fn decode(market: Market, frame: &[u8]) -> (Result<(), DecodeError>, Vec<Ev>) {
    let mut d = GateDecoder::new(market, 400);
    let mut a = Collect::default();
    let ra = d.decode(frame, &mut a);
    let mut g = Collect::default();
    let rg = d.decode_general(frame, &mut g);
    assert_eq!(
        ra,
        rg,
        "scanner/general result differ on {}",
        String::from_utf8_lossy(frame)
    );
    assert_eq!(
        a.0,
        g.0,
        "scanner/general events differ on {}",
        String::from_utf8_lossy(frame)
    );
    (ra, a.0)
}

pub fn px(s: &str) -> Px {
    Px::parse_signed(s.as_bytes()).unwrap()
}
pub fn dx(s: &str) -> Dec {
    Dec::parse_signed(s.as_bytes()).unwrap()
}

pub fn qty(s: &str) -> Qty {
    Qty::parse_signed(s.as_bytes()).unwrap()
}
pub fn lv(p: &str, q: &str) -> Level {
    Level::new(px(p), qty(q))
}
