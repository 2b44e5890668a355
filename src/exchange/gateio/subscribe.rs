//! Request builders (protocols.md §2.1–§2.3, §3.2, §3.4, §4.2, §4.4). Cold-ish path: each
//! builder clears and fills a caller-owned `String` that the caller reuses.
//!
//! ```text
//! {"time":1611541000,"id":7,"channel":"spot.obu","event":"subscribe","payload":["ob.BTC_USDT.50"]}
//! {"time":T,"id":N,"channel":"spot.orders","event":"subscribe","payload":["BTC_USDT"],
//!  "auth":{"method":"api_key","KEY":"<key>","SIGN":"<hex hmac-sha512>"}}
//! {"time":T,"channel":"futures.ping"}
//! ```

use std::fmt::Write as _;

use super::auth::{sign_channel, sign_ws_api};
pub use super::channel::{Channel, Event};
/// API key + secret for private channels (the crate-wide type; `Debug` redacts both).
pub use crate::secret::Credentials;
use crate::types::Market;

fn prefix(m: Market) -> &'static str {
    match m {
        Market::Spot => "spot",
        Market::Futures => "futures",
    }
}

/// `,"payload":[…]` (nothing for `spot.balances`).
fn write_payload(ch: &Channel<'_>, out: &mut String) {
    let list = |out: &mut String, first: Option<&str>, rest: &[&str]| {
        out.push_str(",\"payload\":[");
        let mut sep = false;
        if let Some(f) = first {
            push_str_json(out, f);
            sep = true;
        }
        for p in rest {
            if sep {
                out.push(',');
            }
            push_str_json(out, p);
            sep = true;
        }
        out.push(']');
    };
    match *ch {
        Channel::Obu { pair, depth, .. } => {
            out.push_str(",\"payload\":[\"ob.");
            push_escaped(out, pair);
            let _ = write!(out, ".{depth}\"]");
        }
        Channel::OrderBookUpdate {
            market,
            pair,
            interval,
            level,
        } => match market {
            Market::Spot => list(out, Some(pair), &[interval]),
            Market::Futures => list(out, Some(pair), &[interval, level]),
        },
        Channel::OrderBook {
            market,
            pair,
            level,
            interval,
        } => match market {
            Market::Spot => list(out, Some(pair), &[level, interval]),
            Market::Futures => list(out, Some(pair), &[level, "0"]),
        },
        Channel::Trades { pairs, .. }
        | Channel::BookTicker { pairs, .. }
        | Channel::Tickers { pairs, .. }
        | Channel::SpotOrders { pairs }
        | Channel::SpotUserTrades { pairs } => list(out, None, pairs),
        Channel::SpotBalances => {}
        Channel::FuturesOrders { uid, contracts }
        | Channel::FuturesUserTrades { uid, contracts }
        | Channel::FuturesPositions { uid, contracts } => list(out, Some(uid), contracts),
        Channel::FuturesBalances { uid } => list(out, Some(uid), &[]),
        Channel::Candlesticks { interval, pair, .. } => list(out, Some(interval), &[pair]),
    }
}

/// Characters JSON requires escaped inside a string.
fn push_escaped(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

fn push_str_json(out: &mut String, s: &str) {
    out.push('"');
    push_escaped(out, s);
    out.push('"');
}

/// Build a request for `ch` into `out` (cleared first). Private channels need `creds` (a
/// private channel without credentials is built without `auth`, which the venue will refuse).
pub fn request(
    out: &mut String,
    ch: &Channel<'_>,
    event: Event,
    id: u64,
    time_s: i64,
    creds: Option<&Credentials>,
) {
    out.clear();
    let name = ch.name();
    let _ = write!(
        out,
        "{{\"time\":{time_s},\"id\":{id},\"channel\":\"{name}\",\"event\":\"{}\"",
        event.as_str()
    );
    write_payload(ch, out);
    if let Some(c) = creds.filter(|_| ch.is_private()) {
        out.push_str(",\"auth\":{\"method\":\"api_key\",\"KEY\":");
        push_str_json(out, c.api_key.expose());
        out.push_str(",\"SIGN\":\"");
        sign_channel(out, &c.api_secret, name, event.as_str(), time_s);
        out.push_str("\"}");
    }
    out.push('}');
}

/// Public subscribe.
pub fn subscribe(out: &mut String, ch: &Channel<'_>, id: u64, time_s: i64) {
    request(out, ch, Event::Subscribe, id, time_s, None)
}

/// Public unsubscribe.
pub fn unsubscribe(out: &mut String, ch: &Channel<'_>, id: u64, time_s: i64) {
    request(out, ch, Event::Unsubscribe, id, time_s, None)
}

/// Private subscribe with per-request `auth` (`time_s` is signed, so it must be the current
/// unix time within 60 s of the server's).
pub fn subscribe_private(
    out: &mut String,
    ch: &Channel<'_>,
    id: u64,
    time_s: i64,
    creds: &Credentials,
) {
    request(out, ch, Event::Subscribe, id, time_s, Some(creds))
}

/// Private unsubscribe with per-request `auth` (same signing rule as [`subscribe_private`]).
pub fn unsubscribe_private(
    out: &mut String,
    ch: &Channel<'_>,
    id: u64,
    time_s: i64,
    creds: &Credentials,
) {
    request(out, ch, Event::Unsubscribe, id, time_s, Some(creds))
}

/// App-level keepalive `{"time":T,"channel":"spot.ping"}` / `futures.ping`.
pub fn ping(out: &mut String, market: Market, time_s: i64) {
    out.clear();
    let _ = write!(
        out,
        "{{\"time\":{time_s},\"channel\":\"{}.ping\"}}",
        prefix(market)
    );
}

/// WS-API login `{"time","channel":"spot.login","event":"api","payload":{api_key,signature,
/// timestamp,req_id}}` (order entry over WS; push subscriptions still carry `auth`).
pub fn login(out: &mut String, market: Market, time_s: i64, req_id: &str, creds: &Credentials) {
    out.clear();
    let channel = match market {
        Market::Spot => "spot.login",
        Market::Futures => "futures.login",
    };
    let _ = write!(
        out,
        "{{\"time\":{time_s},\"channel\":\"{channel}\",\"event\":\"api\",\"payload\":{{\"api_key\":"
    );
    push_str_json(out, creds.api_key.expose());
    out.push_str(",\"signature\":\"");
    sign_ws_api(out, &creds.api_secret, channel, "", time_s);
    let _ = write!(out, "\",\"timestamp\":\"{time_s}\",\"req_id\":");
    push_str_json(out, req_id);
    out.push_str("}}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_requests() {
        let mut s = String::new();
        let ch = Channel::Obu {
            market: Market::Spot,
            pair: "BTC_USDT",
            depth: 50,
        };
        subscribe(&mut s, &ch, 7, 1611541000);
        assert_eq!(
            s,
            r#"{"time":1611541000,"id":7,"channel":"spot.obu","event":"subscribe","payload":["ob.BTC_USDT.50"]}"#
        );
        let ch = Channel::OrderBookUpdate {
            market: Market::Futures,
            pair: "BTC_USDT",
            interval: "100ms",
            level: "100",
        };
        unsubscribe(&mut s, &ch, 8, 5);
        assert_eq!(
            s,
            r#"{"time":5,"id":8,"channel":"futures.order_book_update","event":"unsubscribe","payload":["BTC_USDT","100ms","100"]}"#
        );
        ping(&mut s, Market::Futures, 9);
        assert_eq!(s, r#"{"time":9,"channel":"futures.ping"}"#);
    }

    #[test]
    fn private_request_carries_signature() {
        let creds = Credentials::new("k", "gate-test-secret-0123456789abcdef");
        let mut s = String::new();
        subscribe_private(
            &mut s,
            &Channel::SpotOrders { pairs: &["!all"] },
            1,
            1611541000,
            &creds,
        );
        assert_eq!(
            s,
            concat!(
                r#"{"time":1611541000,"id":1,"channel":"spot.orders","event":"subscribe","payload":["!all"],"#,
                r#""auth":{"method":"api_key","KEY":"k","SIGN":"9a4327553323a794a07a1730198b64be868ed7d9e9eaadf17255acc410529c6face0e944e3b030b6664a27427d45f976fec15e250a7729c32f5541e8ac9831ff"}}"#
            )
        );
        subscribe_private(&mut s, &Channel::SpotBalances, 2, 1, &creds);
        assert!(s.starts_with(
            r#"{"time":1,"id":2,"channel":"spot.balances","event":"subscribe","auth":"#
        ));
        subscribe_private(
            &mut s,
            &Channel::FuturesBalances { uid: "123" },
            3,
            1,
            &creds,
        );
        assert!(s.contains(r#""payload":["123"]"#));
    }
}
