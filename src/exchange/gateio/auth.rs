//! Signing for private channels and the WS-API login (protocols.md §2.2).
//!
//! ```text
//! push subscriptions:  SIGN = hex(HMAC_SHA512(secret, "channel=<ch>&event=<ev>&time=<t>"))
//! WS-API (login):      signature = hex(HMAC_SHA512(secret, "api\n<channel>\n<req_param>\n<ts>"))
//! REST (APIv4):        SIGN = hex(HMAC_SHA512(secret,
//!                        "<METHOD>\n<path incl. /api/v4>\n<query>\n<hex(SHA512(body))>\n<ts_s>"))
//!                      headers KEY, SIGN, Timestamp (seconds)
//! ```
//!
//! REST form: Gate APIv4 docs "Authentication / API Signature string generation" (the official
//! Python `gen_sign` reproduced in e.g. tanaikech's Gate API v4 note and
//! LinUxTo5re/gateio_spot_arbitrage `gen_sign.py`), ccxt's `HmacSha512Gate` signing pattern
//! (`METHOD\npath\nquery\nbody_hash\ntimestamp`, signing path prefixed `/api/v4`, secret raw).

use hmac::{Hmac, Mac};
use sha2::Sha512;

pub use crate::secret::{Credentials, Secret};

type HmacSha512 = Hmac<Sha512>;

fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
}

fn mac(secret: &Secret) -> HmacSha512 {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    match HmacSha512::new_from_slice(secret.expose().as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

/// Append `hex(HMAC_SHA512(secret, "channel=<channel>&event=<event>&time=<time_s>"))` to `out`.
pub fn sign_channel(out: &mut String, secret: &Secret, channel: &str, event: &str, time_s: i64) {
    let mut m = mac(secret);
    m.update(b"channel=");
    m.update(channel.as_bytes());
    m.update(b"&event=");
    m.update(event.as_bytes());
    m.update(b"&time=");
    m.update(itoa_buf(time_s).as_bytes());
    push_hex(out, &m.finalize().into_bytes());
}

/// Append `hex(HMAC_SHA512(secret, "api\n<channel>\n<req_param>\n<timestamp>"))` to `out`
/// (WS-API; `req_param` is empty for `*.login`).
pub fn sign_ws_api(
    out: &mut String,
    secret: &Secret,
    channel: &str,
    req_param: &str,
    timestamp_s: i64,
) {
    let mut m = mac(secret);
    m.update(b"api\n");
    m.update(channel.as_bytes());
    m.update(b"\n");
    m.update(req_param.as_bytes());
    m.update(b"\n");
    m.update(itoa_buf(timestamp_s).as_bytes());
    push_hex(out, &m.finalize().into_bytes());
}

/// Header names of a signed APIv4 REST request (Gate docs "Authentication": `KEY`, `SIGN`,
/// `Timestamp`).
pub const REST_KEY_HEADER: &str = "KEY";
/// See [`REST_KEY_HEADER`].
pub const REST_SIGN_HEADER: &str = "SIGN";
/// See [`REST_KEY_HEADER`]; the value is Unix seconds.
pub const REST_TIMESTAMP_HEADER: &str = "Timestamp";

/// Append the APIv4 REST signature to `out`: `hex(HMAC_SHA512(secret,
/// "<method>\n<path>\n<query>\n<hex(SHA512(body))>\n<timestamp_s>"))`. `path` is the full
/// path with its `/api/v4` prefix, `query` the query string exactly as sent (no `?`), `body` the
/// request body (empty for GET: its SHA-512 is still part of the string).
pub fn sign_rest(
    out: &mut String,
    secret: &Secret,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
    timestamp_s: i64,
) {
    use sha2::Digest;
    let body_hash = Sha512::digest(body);
    let mut m = mac(secret);
    m.update(method.as_bytes());
    m.update(b"\n");
    m.update(path.as_bytes());
    m.update(b"\n");
    m.update(query.as_bytes());
    m.update(b"\n");
    let mut hex = String::with_capacity(128);
    push_hex(&mut hex, &body_hash);
    m.update(hex.as_bytes());
    m.update(b"\n");
    m.update(itoa_buf(timestamp_s).as_bytes());
    push_hex(out, &m.finalize().into_bytes());
}

/// Small stack-only integer formatting.
struct NumBuf {
    buf: [u8; 24],
    start: usize,
}

impl NumBuf {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

fn itoa_buf(v: i64) -> NumBuf {
    let mut buf = [0u8; 24];
    let mut i = buf.len();
    let neg = v < 0;
    let mut u = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    NumBuf { buf, start: i }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed with Python 3's standard library:
    //   import hmac, hashlib
    //   hmac.new(b'gate-test-secret-0123456789abcdef',
    //            b'channel=spot.orders&event=subscribe&time=1611541000',
    //            hashlib.sha512).hexdigest()
    const SECRET: &str = "gate-test-secret-0123456789abcdef";

    #[test]
    fn sign_channel_matches_python_hmac() {
        let s = Secret::new(SECRET);
        let mut out = String::new();
        sign_channel(&mut out, &s, "spot.orders", "subscribe", 1611541000);
        assert_eq!(
            out,
            "9a4327553323a794a07a1730198b64be868ed7d9e9eaadf17255acc410529c6face0e944e3b030b6664a27427d45f976fec15e250a7729c32f5541e8ac9831ff"
        );
        out.clear();
        sign_channel(&mut out, &s, "futures.orders", "unsubscribe", 1700000000);
        assert_eq!(
            out,
            "2ddaf1c07aab2c9ab7ef7a83082d45879f8d5fa147e72d30051abe159e23162ebe3a7901e4e85943d19c44f29e9ab74fa8df20704116462090e726795e8c0f05"
        );
    }

    #[test]
    fn sign_ws_api_login_matches_python_hmac() {
        // hmac.new(SECRET, b'api\nspot.login\n\n1681984544', hashlib.sha512).hexdigest()
        let s = Secret::new(SECRET);
        let mut out = String::new();
        sign_ws_api(&mut out, &s, "spot.login", "", 1681984544);
        assert_eq!(
            out,
            "c05b3b6968ce53ca3cb7e9d83906898890a37254ffb9d0e96e1266866d2aac1a42e8cdd79a086f6bfbd026164099cad2ada4e2a0e3dafebc8e809289be4f0661"
        );
    }

    #[test]
    fn sign_rest_matches_python_gen_sign() {
        // s = 'GET\n/api/v4/spot/my_trades\ncurrency_pair=BTC_USDT&from=1700000000&limit=1000\n'
        //     + hashlib.sha512(b'').hexdigest() + '\n1700000100'
        // hmac.new(SECRET, s.encode(), hashlib.sha512).hexdigest()
        let s = Secret::new(SECRET);
        let mut out = String::new();
        sign_rest(
            &mut out,
            &s,
            "GET",
            "/api/v4/spot/my_trades",
            "currency_pair=BTC_USDT&from=1700000000&limit=1000",
            b"",
            1700000100,
        );
        assert_eq!(
            out,
            "24cc176e11ec59b4f5f3ca5abf081ed6e7b4d1e96aca5ed0ec4b2031b945cd24154b47374f65f7afe822abf1b53c1343a0cd03015cad713da810e707fbc078ea"
        );
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{s}"), "<redacted>");
        assert!(!format!("{s:?} {s} {:?}", Some(&s)).contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn itoa_negative_and_zero() {
        assert_eq!(itoa_buf(0).as_bytes(), b"0");
        assert_eq!(itoa_buf(-42).as_bytes(), b"-42");
        assert_eq!(itoa_buf(i64::MIN).as_bytes(), b"-9223372036854775808");
    }
}
