//! JSON control frames (text opcode): a tiny allocation-free scanner for the flat objects MEXC
//! sends — `{"id":N,"code":N,"msg":"…"}` — and the ack / rejection helpers.
//!
//! Examples (tests/fixtures):
//! * ack: `{"id":0,"code":0,"msg":"spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"}`
//! * PONG: `{"id":0,"code":0,"msg":"PONG"}`
//! * a server-sent ping `{"method":"PING"}` (any letter case; protocols.md §8 item 1 and §9:
//!   clients send it in either case, and third-party notes report the server sending it and
//!   expecting `{"method":"PONG"}`): [`ControlKind::Ping`], answered by the feed
//! * rejection, code still 0:
//!   `{"id":0,"code":0,"msg":"Not Subscribed successfully! [ch1,ch2].  Reason： Blocked! "}`

use crate::event::{ControlKind, ControlMsg, DecodeError, Sink};

/// What the scanner found at the top level of the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ControlScan<'a> {
    pub id: Option<u64>,
    pub code: Option<i64>,
    /// Raw string contents between the quotes, and whether it holds escapes.
    pub msg: Option<(&'a [u8], bool)>,
    /// Raw `method` string contents (a request from the server: `PING`).
    pub method: Option<&'a [u8]>,
}

/// Prefix of MEXC's subscription refusal (sent with `code: 0`).
pub const REJECT_PREFIX: &str = "Not Subscribed successfully!";

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn expect(&mut self, c: u8) -> Result<(), DecodeError> {
        match self.peek() {
            Some(x) if x == c => {
                self.i += 1;
                Ok(())
            }
            Some(_) => Err(DecodeError::Malformed),
            None => Err(DecodeError::Truncated),
        }
    }

    /// A string starting at the opening quote: (contents, has escapes).
    fn string(&mut self) -> Result<(&'a [u8], bool), DecodeError> {
        self.expect(b'"')?;
        let start = self.i;
        let mut esc = false;
        loop {
            let Some(c) = self.peek() else {
                return Err(DecodeError::Truncated);
            };
            match c {
                b'"' => {
                    let s = &self.b[start..self.i];
                    self.i += 1;
                    return Ok((s, esc));
                }
                b'\\' => {
                    esc = true;
                    self.i += 2;
                    if self.i > self.b.len() {
                        return Err(DecodeError::Truncated);
                    }
                }
                0..=0x1f => return Err(DecodeError::Malformed),
                _ => self.i += 1,
            }
        }
    }

    /// A JSON number; `Some` when it is an integer that fits `i128` (callers narrow it: an
    /// `id` to `u64`, whose upper half an `i64` would lose, a `code` to `i64`).
    fn number(&mut self) -> Result<Option<i128>, DecodeError> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E') {
                self.i += 1;
            } else {
                break;
            }
        }
        let t = &self.b[start..self.i];
        if t.is_empty() {
            return Err(DecodeError::Malformed);
        }
        let (neg, digits) = match t[0] {
            b'-' => (true, &t[1..]),
            _ => (false, t),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Ok(None);
        }
        let mut v: i128 = 0;
        for &c in digits {
            v = match v
                .checked_mul(10)
                .and_then(|v| v.checked_add((c - b'0') as i128))
            {
                Some(v) => v,
                None => return Ok(None),
            };
        }
        Ok(Some(if neg { -v } else { v }))
    }

    /// Skip any value (nested containers by bracket counting, strings honoured). Bounded by the
    /// input length.
    fn skip_value(&mut self) -> Result<(), DecodeError> {
        match self.peek() {
            None => Err(DecodeError::Truncated),
            Some(b'"') => self.string().map(|_| ()),
            Some(b'{') | Some(b'[') => {
                let mut depth = 0usize;
                loop {
                    match self.peek() {
                        None => return Err(DecodeError::Truncated),
                        Some(b'"') => {
                            self.string()?;
                            continue;
                        }
                        Some(b'{') | Some(b'[') => depth += 1,
                        Some(b'}') | Some(b']') => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            Some(_) => {
                let start = self.i;
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.i += 1;
                }
                if self.i == start {
                    Err(DecodeError::Malformed)
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// Scan a flat JSON object for `id`, `code` and `msg`; other keys are skipped.
pub(crate) fn scan(frame: &[u8]) -> Result<ControlScan<'_>, DecodeError> {
    let mut s = Scan { b: frame, i: 0 };
    let mut out = ControlScan {
        id: None,
        code: None,
        msg: None,
        method: None,
    };
    s.ws();
    s.expect(b'{')?;
    s.ws();
    if s.peek() == Some(b'}') {
        s.i += 1;
    } else {
        loop {
            s.ws();
            let (key, _) = s.string()?;
            s.ws();
            s.expect(b':')?;
            s.ws();
            let first = s.peek();
            match (key, first) {
                (b"id", Some(b'-' | b'0'..=b'9')) => {
                    out.id = s.number()?.and_then(|v| u64::try_from(v).ok());
                }
                (b"code", Some(b'-' | b'0'..=b'9')) => {
                    out.code = s.number()?.and_then(|v| i64::try_from(v).ok());
                    if out.code.is_none() {
                        return Err(DecodeError::WrongType("code"));
                    }
                }
                (b"code", Some(b'"')) => {
                    // Tolerate a quoted integer code.
                    let (t, _) = s.string()?;
                    let mut sub = Scan { b: t, i: 0 };
                    out.code = sub.number()?.and_then(|v| i64::try_from(v).ok());
                    if out.code.is_none() || sub.i != t.len() {
                        return Err(DecodeError::WrongType("code"));
                    }
                }
                (b"msg", Some(b'"')) => out.msg = Some(s.string()?),
                (b"method", Some(b'"')) => out.method = Some(s.string()?.0),
                _ => s.skip_value()?,
            }
            s.ws();
            match s.peek() {
                Some(b',') => s.i += 1,
                Some(b'}') => {
                    s.i += 1;
                    break;
                }
                Some(_) => return Err(DecodeError::Malformed),
                None => return Err(DecodeError::Truncated),
            }
        }
    }
    s.ws();
    if s.i != frame.len() {
        return Err(DecodeError::Malformed);
    }
    Ok(out)
}

fn hex4(b: &[u8]) -> Result<u32, DecodeError> {
    if b.len() < 4 {
        return Err(DecodeError::Truncated);
    }
    let mut v = 0u32;
    for &c in &b[..4] {
        let d = (c as char).to_digit(16).ok_or(DecodeError::Malformed)?;
        v = v * 16 + d;
    }
    Ok(v)
}

/// Unescape JSON string contents into `out` (cleared first) without growing it past its
/// capacity (`TooLarge` instead).
pub(crate) fn unescape_into(raw: &[u8], out: &mut String) -> Result<(), DecodeError> {
    out.clear();
    let cap = out.capacity();
    let push = |out: &mut String, ch: char| -> Result<(), DecodeError> {
        if out.len() + ch.len_utf8() > cap {
            return Err(DecodeError::TooLarge);
        }
        out.push(ch);
        Ok(())
    };
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c != b'\\' {
            // Copy a run of plain bytes (validated as UTF-8).
            let start = i;
            while i < raw.len() && raw[i] != b'\\' {
                i += 1;
            }
            let s = std::str::from_utf8(&raw[start..i]).map_err(|_| DecodeError::Malformed)?;
            if out.len() + s.len() > cap {
                return Err(DecodeError::TooLarge);
            }
            out.push_str(s);
            continue;
        }
        let Some(&e) = raw.get(i + 1) else {
            return Err(DecodeError::Truncated);
        };
        i += 2;
        let ch = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(&raw[i..])?;
                i += 4;
                if (0xd800..0xdc00).contains(&hi) {
                    if raw.get(i) != Some(&b'\\') || raw.get(i + 1) != Some(&b'u') {
                        return Err(DecodeError::Malformed);
                    }
                    let lo = hex4(&raw[i + 2..])?;
                    i += 6;
                    if !(0xdc00..0xe000).contains(&lo) {
                        return Err(DecodeError::Malformed);
                    }
                    char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
                        .ok_or(DecodeError::Malformed)?
                } else {
                    char::from_u32(hi).ok_or(DecodeError::Malformed)?
                }
            }
            _ => return Err(DecodeError::Malformed),
        };
        push(out, ch)?;
    }
    Ok(())
}

/// If `msg` is a subscription refusal, `Some(channels)` where channels is the text between
/// the brackets (`None` inside when there are no brackets).
pub(crate) fn rejected_channels(msg: &str) -> Option<Option<&str>> {
    let rest = msg.strip_prefix(REJECT_PREFIX)?;
    let open = rest.find('[');
    let close = rest.rfind(']');
    Some(match (open, close) {
        (Some(o), Some(c)) if c > o => Some(&rest[o + 1..c]),
        _ => None,
    })
}

/// Whether a refusal is permanent (issue 13, finding 11): `Blocked!` is MEXC's answer to a
/// channel name it does not serve (retired JSON channels, a wrong name; protocols.md §2 "rejected"
/// and the retired-channel list), which fails the same way every time. Anything else (a
/// non-zero code, a refusal without that reason) may succeed later and is retried.
pub fn refusal_is_permanent(code: i64, msg: &str) -> bool {
    code == 0 && rejected_channels(msg).is_some() && msg.contains("Blocked")
}

/// Whether an ack's `msg` confirms exactly the requested channels: `msg` split on `,` must be
/// the same set as `requested` (order-insensitive, duplicates ignored). Anything else —
/// including a `code: 0` rejection or an ack for another channel — is a failure.
pub fn ack_matches(msg: &str, requested: &[&str]) -> bool {
    if requested.is_empty() || msg.is_empty() {
        return false;
    }
    let parts = || msg.split(',').map(str::trim);
    parts().all(|p| !p.is_empty() && requested.contains(&p))
        && requested.iter().all(|r| parts().any(|p| p == *r))
}

/// A control text frame → `Sink::control`: ack, PONG, rejection (`Not Subscribed
/// successfully!`, code 0) or error (non-zero code). Escaped text is unescaped into `text`
/// (bounded by its capacity; no allocation).
pub(super) fn decode<S: Sink>(
    frame: &[u8],
    text: &mut String,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let ControlScan {
        id,
        code,
        msg,
        method,
    } = scan(frame)?;
    if code.is_none() && method.is_some_and(|m| m.eq_ignore_ascii_case(b"PING")) {
        sink.control(&ControlMsg {
            kind: ControlKind::Ping,
            channel: None,
            event: None,
            message: None,
            req_id: id,
            code: None,
            payload0: None,
        });
        return Ok(());
    }
    let msg: Option<&str> = match msg {
        None => None,
        Some((raw, false)) => Some(std::str::from_utf8(raw).map_err(|_| DecodeError::Malformed)?),
        Some((raw, true)) => {
            unescape_into(raw, text)?;
            Some(text.as_str())
        }
    };
    let Some(code) = code else {
        return Err(DecodeError::MissingField("code"));
    };
    let mut m = ControlMsg {
        kind: ControlKind::Ack,
        channel: None,
        event: None,
        message: msg,
        req_id: id,
        code: Some(code),
        payload0: None,
    };
    if code != 0 {
        m.kind = ControlKind::Error;
    } else {
        let Some(text) = msg else {
            return Err(DecodeError::MissingField("msg"));
        };
        if text == "PONG" {
            m.kind = ControlKind::Pong;
        } else if let Some(chs) = rejected_channels(text) {
            m.kind = ControlKind::Rejected;
            m.channel = chs;
        } else {
            m.kind = ControlKind::Ack;
            m.channel = Some(text);
        }
    }
    sink.control(&m);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_flat_objects_in_any_key_order() {
        let s = scan(br#" {"msg":"PONG","code":0,"id":7} "#).unwrap();
        assert_eq!(s.id, Some(7));
        assert_eq!(s.code, Some(0));
        assert_eq!(s.msg, Some((&b"PONG"[..], false)));
        let s =
            scan(br#"{"id":1,"code":700003,"msg":"a\"b","data":{"x":[1,"]"]},"ok":true}"#).unwrap();
        assert_eq!(s.code, Some(700003));
        assert_eq!(s.msg, Some((&br#"a\"b"#[..], true)));
        // An id above i64::MAX is still an id (found by the serde_json differential smoke).
        let s = scan(br#"{"id":18446744073709551615,"code":-9223372036854775808}"#).unwrap();
        assert_eq!((s.id, s.code), (Some(u64::MAX), Some(i64::MIN)));
        assert_eq!(
            scan(br#"{"id":18446744073709551616,"code":0}"#).unwrap().id,
            None
        );
        assert!(scan(b"{").is_err());
        assert!(scan(br#"{"id":1}x"#).is_err());
        assert!(scan(b"").is_err());
        assert!(scan(br#"{"code":"x"}"#).is_err());
    }

    #[test]
    fn unescape_bounded() {
        let mut out = String::with_capacity(16);
        unescape_into(br#"a\u00e9\uff1a\n\ud83d\ude00"#, &mut out).unwrap();
        assert_eq!(out, "aé：\n😀");
        let mut small = String::with_capacity(2);
        let cap = small.capacity();
        let long = vec![b'a'; cap + 1];
        assert_eq!(unescape_into(&long, &mut small), Err(DecodeError::TooLarge));
        assert_eq!(small.capacity(), cap);
        assert!(unescape_into(br#"\ud83d"#, &mut out).is_err());
        assert!(unescape_into(br#"\u12"#, &mut out).is_err());
    }

    #[test]
    fn issue13_finding11_blocked_is_permanent_other_refusals_transient() {
        let blocked = "Not Subscribed successfully! [spot@public.deals.v3.api@BTCUSDT].  Reason\u{FF1A} Blocked! ";
        assert!(refusal_is_permanent(0, blocked));
        assert!(!refusal_is_permanent(
            0,
            "Not Subscribed successfully! [x].  Reason: busy"
        ));
        assert!(
            !refusal_is_permanent(1, blocked),
            "a non-zero code is an error, retried"
        );
        assert!(!refusal_is_permanent(
            0,
            "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"
        ));
    }

    #[test]
    fn ack_matching_is_set_equality() {
        let a = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT";
        let b = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT";
        assert!(ack_matches(a, &[a]));
        assert!(ack_matches(&format!("{b},{a}"), &[a, b]));
        assert!(!ack_matches(a, &[a, b]));
        assert!(!ack_matches(&format!("{a},{b}"), &[a]));
        assert!(!ack_matches("", &[a]));
        assert!(!ack_matches(a, &[]));
        let rej = format!("{REJECT_PREFIX} [{a}].  Reason： Blocked! ");
        assert!(!ack_matches(&rej, &[a]));
        assert_eq!(rejected_channels(&rej), Some(Some(a)));
        assert_eq!(rejected_channels(a), None);
    }

    /// Issue 13, finding 6 (MEXC half): a server-sent `{"method":"PING"}`, in any letter case,
    /// is a ping to answer, not a decode error (the old scanner refused it: no `code`).
    #[test]
    fn issue13_finding6_server_ping_any_case_is_a_ping_not_an_error() {
        struct S(Vec<ControlKind>);
        impl Sink for S {
            fn control(&mut self, m: &ControlMsg<'_>) {
                self.0.push(m.kind);
            }
        }
        let mut text = String::with_capacity(64);
        for f in [
            &br#"{"method":"PING"}"#[..],
            br#"{"method":"ping"}"#,
            br#" { "method" : "Ping" , "id":3} "#,
        ] {
            let mut s = S(Vec::new());
            decode(f, &mut text, &mut s).unwrap();
            assert_eq!(s.0, [ControlKind::Ping], "{}", String::from_utf8_lossy(f));
        }
        // Anything else without a code is still refused.
        let mut s = S(Vec::new());
        assert!(decode(br#"{"method":"PINGX"}"#, &mut text, &mut s).is_err());
        assert!(s.0.is_empty());
    }
}
