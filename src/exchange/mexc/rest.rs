//! REST depth snapshot `GET /api/v3/depth?symbol=…&limit=…` (cold path, serde_json).
//!
//! Body: `{"lastUpdateId":1112416,"bids":[["15.00000","49999.00000"]],"asks":[["14.0000","1.0000"]]}`
//! (tests/fixtures/mexc_spot_rest_depth_snapshot.json). `lastUpdateId` bridges against the
//! aggre-depth `fromVersion`/`toVersion` (protocols.md §1.6). Prices and sizes are read from
//! their text in the body (string or JSON number), never through `f64`: exact or refused.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::auth::{parse_error_body, MexcRestError};
use crate::event::{BookMsg, Level};
use crate::types::{Px, Qty};

/// A parsed depth snapshot (owned; cold path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthSnapshot {
    /// `lastUpdateId`: the depth version the snapshot is at; bridge diffs with `fromVersion`.
    pub last_update_id: u64,
    /// Best first, as sent.
    pub bids: Vec<Level>,
    /// Best first, as sent.
    pub asks: Vec<Level>,
    /// Venue time where the body carries one (`timestamp`), else `None`.
    pub ts_exchange_ms: Option<i64>,
}

impl DepthSnapshot {
    /// The snapshot as a book event: `snapshot: true`, `seq_first = seq_last = lastUpdateId`.
    pub fn book_msg<'a>(&'a self, symbol: &'a str) -> BookMsg<'a> {
        BookMsg {
            symbol,
            snapshot: true,
            seq_first: self.last_update_id,
            seq_last: self.last_update_id,
            bids: &self.bids,
            asks: &self.asks,
            ts_exchange_ms: self.ts_exchange_ms,
        }
    }
}

/// A level entry's number text, never through `f64`: the content of a JSON string, or the
/// literal of a JSON number as it stands in the body (`1234567.1234567891` stays exact, and a
/// value with more digits than the type keeps is refused instead of rounded). Anything else
/// (`null`, an object, a string with escapes) is handed to the parser as is and refused there.
fn num_text(v: &RawValue) -> &[u8] {
    match v.get().as_bytes() {
        [b'"', inner @ .., b'"'] => inner,
        t => t,
    }
}

#[derive(Deserialize)]
struct RawDepth<'a> {
    #[serde(rename = "lastUpdateId")]
    last_update_id: Option<serde_json::Value>,
    #[serde(borrow)]
    bids: Option<Vec<Vec<&'a RawValue>>>,
    #[serde(borrow)]
    asks: Option<Vec<Vec<&'a RawValue>>>,
    timestamp: Option<i64>,
    code: Option<serde_json::Value>,
}

fn levels(raw: Vec<Vec<&RawValue>>) -> Result<Vec<Level>, MexcRestError> {
    raw.into_iter()
        .map(|l| {
            if l.len() < 2 {
                return Err(MexcRestError::MissingField("level"));
            }
            let px = Px::parse(num_text(l[0])).map_err(|e| MexcRestError::Number("price", e))?;
            let qty =
                Qty::parse(num_text(l[1])).map_err(|e| MexcRestError::Number("quantity", e))?;
            Ok(Level::new(px, qty))
        })
        .collect()
}

/// Parse a depth snapshot answer (HTTP status + body). Error bodies map to
/// [`MexcRestError::Api`].
pub fn parse_depth_snapshot(http_status: u16, body: &[u8]) -> Result<DepthSnapshot, MexcRestError> {
    if !(200..300).contains(&http_status) {
        return Err(parse_error_body(http_status, body));
    }
    let raw: RawDepth = serde_json::from_slice(body).map_err(|source| MexcRestError::Json {
        http_status,
        source,
    })?;
    let id = match &raw.last_update_id {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let Some(last_update_id) = id else {
        if raw.code.is_some() {
            return Err(parse_error_body(http_status, body));
        }
        return Err(MexcRestError::MissingField("lastUpdateId"));
    };
    Ok(DepthSnapshot {
        last_update_id,
        bids: levels(raw.bids.unwrap_or_default())?,
        asks: levels(raw.asks.unwrap_or_default())?,
        ts_exchange_ms: raw.timestamp,
    })
}
