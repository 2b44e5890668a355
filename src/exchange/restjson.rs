//! Reading account REST bodies (cold path: the reconciler thread, `feed::recon`). Every field
//! is taken as its JSON text through `RawValue` (strings unquoted), so numbers are parsed
//! exactly by [`crate::num`] whatever their JSON form, never through `f64`.

use std::collections::HashMap;

use serde_json::value::RawValue;

use crate::types::{Dec, Px, Qty};

/// One JSON object of a REST answer: field name → its raw JSON text.
pub(crate) type Obj<'a> = HashMap<&'a str, &'a RawValue>;

/// Why an account REST body was refused (no secret can be in it: it names a field or quotes
/// serde's message about the body's shape).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountBodyError {
    /// Not the JSON shape the endpoint answers with.
    #[error("body: {0}")]
    Json(String),
    /// A required field is missing or null.
    #[error("missing field {0}")]
    Missing(&'static str),
    /// A field's value is not what it should be (a number, a side, …).
    #[error("bad field {0}")]
    Bad(&'static str),
}

/// The body as an array of objects.
pub(crate) fn array(body: &[u8]) -> Result<Vec<Obj<'_>>, AccountBodyError> {
    serde_json::from_slice(body).map_err(|e| AccountBodyError::Json(e.to_string()))
}

/// The body (or a field's raw text) as one object.
pub(crate) fn object(body: &[u8]) -> Result<Obj<'_>, AccountBodyError> {
    serde_json::from_slice(body).map_err(|e| AccountBodyError::Json(e.to_string()))
}

/// A field's text: a string's content (no escapes expected in ids, names and numbers: a string
/// with a backslash is refused) or a number's literal; `None` when absent or null.
pub(crate) fn text<'a>(o: &Obj<'a>, k: &'static str) -> Result<Option<&'a str>, AccountBodyError> {
    let Some(raw) = o.get(k) else {
        return Ok(None);
    };
    let t = raw.get().trim();
    if t == "null" {
        return Ok(None);
    }
    match t.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(s) if s.contains('\\') => Err(AccountBodyError::Bad(k)),
        Some(s) => Ok(Some(s)),
        None => Ok(Some(t)),
    }
}

/// A required field's text.
pub(crate) fn req<'a>(o: &Obj<'a>, k: &'static str) -> Result<&'a str, AccountBodyError> {
    text(o, k)?.ok_or(AccountBodyError::Missing(k))
}

/// An exact price; empty text reads as zero (market orders).
pub(crate) fn px(o: &Obj<'_>, k: &'static str) -> Result<Px, AccountBodyError> {
    match text(o, k)? {
        None | Some("") => Ok(Px::ZERO),
        Some(s) => Px::parse(s.as_bytes()).map_err(|_| AccountBodyError::Bad(k)),
    }
}

/// An exact signed quantity (futures sizes: negative = short).
pub(crate) fn qty_signed(o: &Obj<'_>, k: &'static str) -> Result<Qty, AccountBodyError> {
    Qty::parse_signed(req(o, k)?.as_bytes()).map_err(|_| AccountBodyError::Bad(k))
}

/// An exact unsigned quantity; absent reads as zero.
pub(crate) fn qty_or_zero(o: &Obj<'_>, k: &'static str) -> Result<Qty, AccountBodyError> {
    match text(o, k)? {
        None | Some("") => Ok(Qty::ZERO),
        Some(s) => Qty::parse(s.as_bytes()).map_err(|_| AccountBodyError::Bad(k)),
    }
}

/// An exact decimal (balances, fees, PnL); absent or empty reads as zero.
pub(crate) fn dec(o: &Obj<'_>, k: &'static str) -> Result<Dec, AccountBodyError> {
    match text(o, k)? {
        None | Some("") => Ok(Dec::ZERO),
        Some(s) => Dec::parse_signed(s.as_bytes()).map_err(|_| AccountBodyError::Bad(k)),
    }
}

/// Epoch milliseconds from a field in ms (`1700000000123`, Gate's `"1700000000123.456"`).
pub(crate) fn ms(o: &Obj<'_>, k: &'static str) -> Result<Option<i64>, AccountBodyError> {
    match text(o, k)? {
        None | Some("") => Ok(None),
        Some(s) => {
            let int = s.split('.').next().unwrap_or("");
            int.parse().map(Some).map_err(|_| AccountBodyError::Bad(k))
        }
    }
}

/// Epoch milliseconds from a field in seconds, possibly fractional (`1700000000.123`).
pub(crate) fn ms_from_s(o: &Obj<'_>, k: &'static str) -> Result<Option<i64>, AccountBodyError> {
    match text(o, k)? {
        None | Some("") => Ok(None),
        Some(s) => {
            let (i, f) = s.split_once('.').unwrap_or((s, ""));
            let secs: i64 = i.parse().map_err(|_| AccountBodyError::Bad(k))?;
            let mut frac = 0i64;
            for (n, c) in f.bytes().take(3).enumerate() {
                if !c.is_ascii_digit() {
                    return Err(AccountBodyError::Bad(k));
                }
                frac += (c - b'0') as i64 * [100, 10, 1][n];
            }
            // Out of `i64` milliseconds: refused, never wrapped (found by the account_rest fuzz
            // entry point's smoke).
            secs.checked_mul(1000)
                .and_then(|ms| ms.checked_add(if i.starts_with('-') { -frac } else { frac }))
                .map(Some)
                .ok_or(AccountBodyError::Bad(k))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_as_text_exactly() {
        let b = br#"{"a":"0.1000000000000000001","b":12345678901234567890,"c":null,"d":"1700000000123.456","e":1700000000.5}"#;
        let o = object(b).unwrap();
        assert_eq!(text(&o, "a").unwrap(), Some("0.1000000000000000001"));
        assert_eq!(text(&o, "b").unwrap(), Some("12345678901234567890"));
        assert_eq!(text(&o, "c").unwrap(), None);
        assert_eq!(ms(&o, "d").unwrap(), Some(1_700_000_000_123));
        assert_eq!(ms_from_s(&o, "e").unwrap(), Some(1_700_000_000_500));
        assert_eq!(dec(&o, "zz").unwrap(), Dec::ZERO);
        assert_eq!(req(&o, "zz"), Err(AccountBodyError::Missing("zz")));
        assert!(array(b"{}").is_err());
    }
}

/// Test support: a sink that writes each private message as one line of text.
#[cfg(test)]
pub(crate) mod lines {
    use crate::event::{BalanceMsg, FillMsg, OrderMsg, PositionMsg, Sink};

    #[derive(Default)]
    pub(crate) struct Lines(pub(crate) Vec<String>);

    impl Sink for Lines {
        fn order(&mut self, m: &OrderMsg<'_>) {
            self.0.push(format!(
                "order {} {} {:?} {:?} px={} qty={} filled={} {:?} upd={:?}",
                m.symbol,
                m.order_id,
                m.side,
                m.order_type,
                m.px,
                m.qty,
                m.filled,
                m.status,
                m.ts_update_ms
            ));
        }
        fn fill(&mut self, m: &FillMsg<'_>) {
            self.0.push(format!(
                "fill {} {} order={} {:?} px={} qty={} fee={} {:?} t={:?}",
                m.symbol,
                m.trade_id,
                m.order_id,
                m.side,
                m.px,
                m.qty,
                m.fee,
                m.fee_currency,
                m.ts_exchange_ms
            ));
        }
        fn balance(&mut self, m: &BalanceMsg<'_>) {
            self.0.push(format!(
                "balance {} avail={} locked={} total={:?}",
                m.asset,
                m.available,
                m.locked,
                m.total.map(|t| t.to_string())
            ));
        }
        fn position(&mut self, m: &PositionMsg<'_>) {
            self.0.push(format!(
                "position {} size={} entry={} lev={}",
                m.contract, m.size, m.entry_px, m.leverage
            ));
        }
    }
}
