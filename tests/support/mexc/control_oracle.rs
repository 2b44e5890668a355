//! Differential oracle for MEXC JSON control frames: serde_json (a full JSON parser) against the
//! decoder's allocation-free flat scanner. Shared by `fuzz/fuzz_targets/mexc_control.rs` and
//! the stable smoke in `tests/decode/mexc_fuzz_smoke.rs`.
//!
//! The property: whenever serde_json reads the frame as one object with unique top-level keys,
//! an integer `code`, an unsigned integer `id` (or none) and a string `msg` (or none) that fits
//! the decoder's scratch, the decoder reports exactly those values. Frames serde_json refuses
//! may be refused or tolerated by the scanner; they must only never panic.

use cexfeed::event::{ControlMsg, Sink};
use cexfeed::exchange::mexc::{MexcDecoder, CONTROL_TEXT_CAPACITY};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// What the decoder reported (owned).
#[derive(Debug, Default, PartialEq)]
pub struct Seen {
    pub req_id: Option<u64>,
    pub code: Option<i64>,
    pub message: Option<String>,
    pub count: usize,
}

impl Sink for Seen {
    fn control(&mut self, m: &ControlMsg<'_>) {
        self.count += 1;
        self.req_id = m.req_id;
        self.code = m.code;
        self.message = m.message.map(str::to_owned);
    }
}

/// The top-level entries in order, duplicates kept (serde_json's `Value` would keep the last).
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Entries, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = a.next_entry::<String, Value>()? {
                    v.push(e);
                }
                Ok(Entries(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// Run the decoder on `frame` and, where serde_json gives a verdict, compare. `Err` describes
/// a disagreement (the finding).
pub fn check_control(frame: &[u8]) -> Result<(), String> {
    let mut d = MexcDecoder::new(32);
    let mut seen = Seen::default();
    let got = d.decode_text(frame, &mut seen);
    let Ok(Entries(entries)) = serde_json::from_slice::<Entries>(frame) else {
        return Ok(());
    };
    let mut keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Ok(()); // duplicate keys: JSON leaves the meaning open
    }
    let field = |k: &str| entries.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    let Some(code) = field("code").and_then(Value::as_i64) else {
        return Ok(()); // no integer code: not the control shape (PING etc. are checked elsewhere)
    };
    let id = match field("id") {
        None => None,
        Some(v) => match v.as_u64() {
            Some(id) => Some(id),
            None => return Ok(()),
        },
    };
    let msg = match field("msg") {
        None => None,
        Some(Value::String(s)) if s.len() <= CONTROL_TEXT_CAPACITY => Some(s.clone()),
        Some(_) => return Ok(()),
    };
    if code == 0 && msg.is_none() {
        return Ok(()); // refused as MissingField("msg"): nothing to compare
    }
    if let Err(e) = got {
        return Err(format!("decoder refused a valid control frame: {e:?}"));
    }
    let want = Seen {
        req_id: id,
        code: Some(code),
        message: msg,
        count: 1,
    };
    if seen != want {
        return Err(format!("decoder saw {seen:?}, serde_json {want:?}"));
    }
    Ok(())
}
