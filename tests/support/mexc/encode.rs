//! Server-side writers (test support; moved out of the library, which is a client): binary MEXC
//! pushes into a reused buffer (the decoder's inverse), and the server's side of the JSON
//! control protocol (client-request parsing, ack / refusal / PONG texts).
//!
//! Binary pushes: Prices and sizes are written in canonical decimal
//! text (`Px::write_canonical`); field order follows the captures: channel (1), symbol (3),
//! sendTime (6), then the body. No allocation once `out` has the capacity.

#![allow(dead_code)]

use cexfeed::event::{DecodeError, Level};
use cexfeed::exchange::mexc::body;
use cexfeed::types::{Px, Qty, Side};

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(field: u32, wire_type: u8, out: &mut Vec<u8>) {
    varint(((field as u64) << 3) | wire_type as u64, out);
}

fn bytes_field(field: u32, b: &[u8], out: &mut Vec<u8>) {
    key(field, 2, out);
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}

fn int_field(field: u32, v: i64, out: &mut Vec<u8>) {
    key(field, 0, out);
    varint(v as u64, out);
}

fn px_field(field: u32, p: Px, out: &mut Vec<u8>) {
    let mut b = [0u8; cexfeed::types::FIXED_TEXT_MAX];
    bytes_field(field, p.write_canonical(&mut b).as_bytes(), out);
}

fn qty_field(field: u32, q: Qty, out: &mut Vec<u8>) {
    let mut b = [0u8; cexfeed::types::FIXED_TEXT_MAX];
    bytes_field(field, q.write_canonical(&mut b).as_bytes(), out);
}

fn u64_field(field: u32, v: u64, out: &mut Vec<u8>) {
    let mut b = [0u8; 20];
    let mut i = b.len();
    let mut v = v;
    loop {
        i -= 1;
        b[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    bytes_field(field, &b[i..], out);
}

/// Write a length-delimited field whose contents `f` writes, fixing the length afterwards.
fn nested(field: u32, out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
    key(field, 2, out);
    let at = out.len();
    out.extend_from_slice(&[0, 0, 0, 0, 0]); // room for a varint up to 2^35
    let start = out.len();
    f(out);
    let len = out.len() - start;
    let mut tmp = [0u8; 5];
    let mut n = 0;
    let mut v = len as u64;
    while v >= 0x80 {
        tmp[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    tmp[n] = v as u8;
    n += 1;
    out[at..at + n].copy_from_slice(&tmp[..n]);
    out.copy_within(start.., at + n);
    out.truncate(at + n + len);
}

fn head(channel: &str, symbol: Option<&str>, send_time_ms: i64, out: &mut Vec<u8>) {
    out.clear();
    bytes_field(1, channel.as_bytes(), out);
    if let Some(s) = symbol {
        bytes_field(3, s.as_bytes(), out);
    }
    int_field(6, send_time_ms, out);
}

fn levels(field: u32, ls: &[Level], out: &mut Vec<u8>) {
    for l in ls {
        nested(field, out, |o| {
            px_field(1, l.px, o);
            qty_field(2, l.qty, o);
        });
    }
}

/// Body 313 `publicAggreDepths` (diff). `event_type` is the channel without the symbol
/// (`spot@public.aggre.depth.v3.api.pb@100ms`); `last_order_create_time_ms` 0 = omitted.
#[allow(clippy::too_many_arguments)]
pub fn write_aggre_depth<'b>(
    out: &'b mut Vec<u8>,
    channel: &str,
    symbol: &str,
    send_time_ms: i64,
    from_version: u64,
    to_version: u64,
    bids: &[Level],
    asks: &[Level],
    last_order_create_time_ms: i64,
) -> &'b [u8] {
    head(channel, Some(symbol), send_time_ms, out);
    let event_type = channel.rsplit_once('@').map_or(channel, |(a, _)| a);
    nested(body::PUBLIC_AGGRE_DEPTHS, out, |o| {
        levels(1, asks, o);
        levels(2, bids, o);
        bytes_field(3, event_type.as_bytes(), o);
        u64_field(4, from_version, o);
        u64_field(5, to_version, o);
        if last_order_create_time_ms != 0 {
            int_field(6, last_order_create_time_ms, o);
        }
    });
    out
}

/// Body 303 `publicLimitDepths` (top-N snapshot).
#[allow(clippy::too_many_arguments)]
pub fn write_limit_depth<'b>(
    out: &'b mut Vec<u8>,
    channel: &str,
    symbol: &str,
    send_time_ms: i64,
    version: u64,
    bids: &[Level],
    asks: &[Level],
    last_order_create_time_ms: i64,
) -> &'b [u8] {
    head(channel, Some(symbol), send_time_ms, out);
    nested(body::PUBLIC_LIMIT_DEPTHS, out, |o| {
        levels(1, asks, o);
        levels(2, bids, o);
        bytes_field(3, b"spot@public.limit.depth.v3.api.pb", o);
        u64_field(4, version, o);
        if last_order_create_time_ms != 0 {
            int_field(5, last_order_create_time_ms, o);
        }
    });
    out
}

/// One deal for [`write_aggre_deals`].
#[derive(Debug, Clone, Copy)]
pub struct DealOut<'a> {
    pub px: Px,
    pub qty: Qty,
    /// Taker side.
    pub side: Side,
    pub time_ms: i64,
    /// `""` = omitted (pre-2026 pushes).
    pub trade_id: &'a str,
}

/// Body 314 `publicAggreDeals`.
pub fn write_aggre_deals<'b>(
    out: &'b mut Vec<u8>,
    channel: &str,
    symbol: &str,
    send_time_ms: i64,
    deals: &[DealOut<'_>],
) -> &'b [u8] {
    head(channel, Some(symbol), send_time_ms, out);
    let event_type = channel.rsplit_once('@').map_or(channel, |(a, _)| a);
    nested(body::PUBLIC_AGGRE_DEALS, out, |o| {
        for d in deals {
            nested(1, o, |i| {
                px_field(1, d.px, i);
                qty_field(2, d.qty, i);
                int_field(
                    3,
                    match d.side {
                        Side::Buy => 1,
                        Side::Sell => 2,
                    },
                    i,
                );
                int_field(4, d.time_ms, i);
                if !d.trade_id.is_empty() {
                    bytes_field(5, d.trade_id.as_bytes(), i);
                }
            });
        }
        bytes_field(2, event_type.as_bytes(), o);
    });
    out
}

/// Body 315 `publicAggreBookTicker`.
#[allow(clippy::too_many_arguments)]
pub fn write_aggre_book_ticker<'b>(
    out: &'b mut Vec<u8>,
    channel: &str,
    symbol: &str,
    send_time_ms: i64,
    bid: Level,
    ask: Level,
    version: u64,
    last_order_create_time_ms: i64,
) -> &'b [u8] {
    head(channel, Some(symbol), send_time_ms, out);
    nested(body::PUBLIC_AGGRE_BOOK_TICKER, out, |o| {
        px_field(1, bid.px, o);
        qty_field(2, bid.qty, o);
        px_field(3, ask.px, o);
        qty_field(4, ask.qty, o);
        u64_field(5, version, o);
        if last_order_create_time_ms != 0 {
            int_field(6, last_order_create_time_ms, o);
        }
    });
    out
}

// ---------------------------------------------------------------------------------------------
// JSON control protocol, server side.

fn push_escaped(out: &mut Vec<u8>, s: &str) {
    for &c in s.as_bytes() {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(c >> 4) as usize]);
                out.push(HEX[(c & 0xf) as usize]);
            }
            _ => out.push(c),
        }
    }
}

fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Method of a client request (matched in any letter case: some clients send `"ping"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestMethod {
    Subscription,
    Unsubscription,
    Ping,
    Other,
}

/// A client → server request as the server side (loopback venue) sees it. Cold path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    pub method: RequestMethod,
    pub params: Vec<String>,
    /// Echo this in the ack (`0` when absent).
    pub id: Option<u64>,
}

#[derive(serde::Deserialize)]
struct RawRequest {
    method: Option<String>,
    #[serde(default)]
    params: Vec<serde_json::Value>,
    id: Option<serde_json::Value>,
}

/// Parse a client text frame: `{"method":"SUBSCRIPTION","params":[...],"id":N}`,
/// `UNSUBSCRIPTION`, `{"method":"PING"}` (any letter case). Non-string params are ignored.
pub fn parse_client_request(frame: &[u8]) -> Result<ClientRequest, DecodeError> {
    let r: RawRequest = serde_json::from_slice(frame).map_err(|_| DecodeError::Malformed)?;
    let m = r.method.ok_or(DecodeError::MissingField("method"))?;
    let method = if m.eq_ignore_ascii_case("SUBSCRIPTION") {
        RequestMethod::Subscription
    } else if m.eq_ignore_ascii_case("UNSUBSCRIPTION") {
        RequestMethod::Unsubscription
    } else if m.eq_ignore_ascii_case("PING") {
        RequestMethod::Ping
    } else {
        RequestMethod::Other
    };
    let id = match r.id {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    Ok(ClientRequest {
        method,
        params: r
            .params
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        id,
    })
}

/// The server's answer to `PING`: `{"id":0,"code":0,"msg":"PONG"}`.
pub const PONG_REPLY: &str = r#"{"id":0,"code":0,"msg":"PONG"}"#;

/// Server-side ack text: `{"id":N,"code":0,"msg":"<channels comma-joined>"}` (loopback venue).
pub fn write_ack<'b>(out: &'b mut Vec<u8>, id: u64, channels: &[&str]) -> &'b str {
    out.clear();
    out.extend_from_slice(b"{\"id\":");
    push_u64(out, id);
    out.extend_from_slice(b",\"code\":0,\"msg\":\"");
    for (i, ch) in channels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_escaped(out, ch);
    }
    out.extend_from_slice(b"\"}");
    std::str::from_utf8(out).unwrap_or("")
}

/// Server-side refusal text, byte-exact to MEXC's (code 0, full-width colon, double space,
/// trailing space): `Not Subscribed successfully! [<chs>].  Reason： Blocked! `.
pub fn write_blocked<'b>(out: &'b mut Vec<u8>, id: u64, channels: &[&str]) -> &'b str {
    out.clear();
    out.extend_from_slice(b"{\"id\":");
    push_u64(out, id);
    out.extend_from_slice(b",\"code\":0,\"msg\":\"Not Subscribed successfully! [");
    for (i, ch) in channels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_escaped(out, ch);
    }
    out.extend_from_slice("].  Reason： Blocked! \"}".as_bytes());
    std::str::from_utf8(out).unwrap_or("")
}
