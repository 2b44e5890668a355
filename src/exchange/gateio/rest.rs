//! REST order-book snapshot body → `BookMsg` (cold path; allocates per call).
//!
//! Spot `{"id","current"(ms),"update","asks":[["p","a"]…],"bids":[…]}`; futures
//! `{"id","current"(s, float),"update","asks":[{"p","s"}…],"bids":[…]}` (protocols.md §3.3,
//! §4.3). Parsed with simd-json and the same exact-number reader as the WebSocket path (serde_json
//! would turn a JSON float size into `f64`).

use super::wire::{levels, parse_ms, parse_u64, Doc, NumText};
use crate::event::{BookMsg, DecodeError, Level, Sink};
use crate::types::Qty;

/// Alias kept for the integrator: REST decode errors are the hot-path [`DecodeError`].
pub type RestError = DecodeError;

/// Decode a snapshot body for `symbol` (the REST body does not name it) and emit one
/// `BookMsg { snapshot: true, seq_first = seq_last = id }`. `max_levels` bounds each side.
pub fn decode_rest_snapshot<S: Sink>(
    body: &[u8],
    symbol: &str,
    max_levels: usize,
    sink: &mut S,
) -> Result<u64, DecodeError> {
    let mut copy = body.to_vec();
    let mut buffers = simd_json::Buffers::new(body.len());
    let mut tape = simd_json::Tape::null().reset();
    simd_json::fill_tape(&mut copy, &mut buffers, &mut tape).map_err(|_| DecodeError::Malformed)?;
    let mut pos = Vec::new();
    let mut d = Doc::new(&tape.0, body, buffers.structural_indexes(), &mut pos);
    if d.obj_len(0).is_none() {
        return Err(DecodeError::WrongType("root"));
    }
    let (mut id, mut current, mut b, mut a) = (None, None, None, None);
    for (k, v) in d.fields(0) {
        match k {
            "id" => id = Some(v),
            "current" => current = Some(v),
            "bids" => b = Some(v),
            "asks" => a = Some(v),
            _ => {}
        }
    }
    let seq = d.u64_at(id.ok_or(DecodeError::MissingField("id"))?, "id")?;
    let ts = match current {
        Some(c) => current_ms(&mut d, c),
        None => None,
    };
    let mut bids: Vec<Level> = Vec::with_capacity(max_levels.min(4096));
    let mut asks: Vec<Level> = Vec::with_capacity(max_levels.min(4096));
    if let Some(i) = b {
        levels(&mut d, i, &mut bids, max_levels, "bids")?;
    }
    if let Some(i) = a {
        levels(&mut d, i, &mut asks, max_levels, "asks")?;
    }
    sink.book(&BookMsg {
        symbol,
        snapshot: true,
        seq_first: seq,
        seq_last: seq,
        bids: &bids,
        asks: &asks,
        ts_exchange_ms: ts,
    });
    Ok(seq)
}

/// `current`: integer ms (spot) or float seconds (futures, `1623898993.123`) → ms, exactly.
fn current_ms(d: &mut Doc<'_, '_>, i: usize) -> Option<i64> {
    match d.dec(i) {
        NumText::Text(t) if t.contains(&b'.') => {
            // seconds with a fraction: whole seconds × 1000 + the first three fraction digits
            let dot = t.iter().position(|&c| c == b'.')?;
            let secs = parse_u64(&t[..dot])?;
            let mut ms = 0u64;
            for k in 0..3 {
                let c = t.get(dot + 1 + k).copied().unwrap_or(b'0');
                if !c.is_ascii_digit() {
                    return None;
                }
                ms = ms * 10 + (c - b'0') as u64;
            }
            i64::try_from(secs.checked_mul(1000)?.checked_add(ms)?).ok()
        }
        NumText::Text(t) => parse_ms(t),
        _ => None,
    }
}

/// Path of one USDT-settled contract's details, appended to `out` (cleared first):
/// `/api/v4/futures/usdt/contracts/{contract}` (Gate API v4 `GET /futures/{settle}/contracts/
/// {contract}`; protocols.md §4.1). `contract` is percent-encoded outside `[A-Za-z0-9_.-]`.
pub fn contract_path(out: &mut String, contract: &str) {
    out.clear();
    out.push_str("/api/v4/futures/usdt/contracts/");
    for b in contract.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// `quanto_multiplier` of a contract-details body (`{"name":"BTC_USDT",
/// "quanto_multiplier":"0.0001",…}`): the base-asset quantity of one contract, read exactly
/// from its text (a decimal string in Gate's schema — gateio/gateapi-python `docs/Contract.md`:
/// `quanto_multiplier | str`; a JSON number is read from its text too, never through `f64`).
/// Refused: a missing field, zero or a negative value, more decimals than [`Qty`] keeps.
pub fn decode_quanto_multiplier(body: &[u8]) -> Result<Qty, DecodeError> {
    let mut copy = body.to_vec();
    let mut buffers = simd_json::Buffers::new(body.len());
    let mut tape = simd_json::Tape::null().reset();
    simd_json::fill_tape(&mut copy, &mut buffers, &mut tape).map_err(|_| DecodeError::Malformed)?;
    let mut pos = Vec::new();
    let mut d = Doc::new(&tape.0, body, buffers.structural_indexes(), &mut pos);
    if d.obj_len(0).is_none() {
        return Err(DecodeError::WrongType("root"));
    }
    let i = d
        .get(0, "quanto_multiplier")
        .ok_or(DecodeError::MissingField("quanto_multiplier"))?;
    let m = d.qty(i, "quanto_multiplier")?;
    if m <= Qty::ZERO {
        return Err(DecodeError::WrongType("quanto_multiplier"));
    }
    Ok(m)
}

#[cfg(test)]
mod contract_tests {
    use super::*;

    #[test]
    fn quanto_multiplier_is_exact_and_validated() {
        let q = |s: &str| decode_quanto_multiplier(s.as_bytes());
        assert_eq!(
            q(r#"{"name":"BTC_USDT","quanto_multiplier":"0.0001"}"#),
            Ok(Qty::parse(b"0.0001").unwrap())
        );
        assert_eq!(
            q(r#"{"quanto_multiplier":0.01,"name":"ETH_USDT"}"#),
            Ok(Qty::parse(b"0.01").unwrap())
        );
        assert_eq!(q(r#"{"quanto_multiplier":"10"}"#), Ok(Qty::from_int(10)));
        assert!(q(r#"{"name":"BTC_USDT"}"#).is_err());
        assert!(q(r#"{"quanto_multiplier":"0"}"#).is_err());
        assert!(q(r#"{"quanto_multiplier":"-1"}"#).is_err());
        assert!(q(r#"[1]"#).is_err());
        assert!(q("not json").is_err());
        let mut p = String::new();
        contract_path(&mut p, "BTC_USDT");
        assert_eq!(p, "/api/v4/futures/usdt/contracts/BTC_USDT");
        contract_path(&mut p, "A/B");
        assert_eq!(p, "/api/v4/futures/usdt/contracts/A%2FB");
    }
}
