//! Outbound JSON requests written into a caller-owned, reused buffer (protocols.md §1.3):
//! `{"method":"SUBSCRIPTION","params":[...],"id":N}`, `UNSUBSCRIPTION`, `{"method":"PING"}`.
//!
//! The buffer is cleared and written; once its capacity covers the largest request, nothing
//! allocates. Channel strings are JSON-escaped (valid channel names never need it).

/// `{"method":"PING"}` — the application keepalive (server answers `{"id":0,"code":0,"msg":"PONG"}`).
pub const PING_REQUEST: &str = r#"{"method":"PING"}"#;

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
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
    out.push(b'"');
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

fn write_request<'b>(out: &'b mut Vec<u8>, method: &str, channels: &[&str], id: u64) -> &'b str {
    out.clear();
    out.extend_from_slice(b"{\"method\":\"");
    out.extend_from_slice(method.as_bytes());
    out.extend_from_slice(b"\",\"params\":[");
    for (i, ch) in channels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_str(out, ch);
    }
    out.extend_from_slice(b"],\"id\":");
    push_u64(out, id);
    out.push(b'}');
    // Only UTF-8 input and ASCII punctuation were written.
    std::str::from_utf8(out).unwrap_or("")
}

/// `{"method":"SUBSCRIPTION","params":["ch1","ch2"],"id":N}` into `out` (cleared first).
/// The ack's `msg` echoes the channels comma-joined; check it with [`super::ack_matches`].
/// Keep at most [`super::MAX_SUBSCRIPTIONS_PER_CONNECTION`] channels per connection.
pub fn write_subscribe<'b>(out: &'b mut Vec<u8>, channels: &[&str], id: u64) -> &'b str {
    write_request(out, "SUBSCRIPTION", channels, id)
}

/// `{"method":"UNSUBSCRIPTION","params":[...],"id":N}` into `out` (cleared first).
pub fn write_unsubscribe<'b>(out: &'b mut Vec<u8>, channels: &[&str], id: u64) -> &'b str {
    write_request(out, "UNSUBSCRIPTION", channels, id)
}

/// `{"method":"PING"}` into `out` (cleared first).
pub fn write_ping(out: &mut Vec<u8>) -> &str {
    out.clear();
    out.extend_from_slice(PING_REQUEST.as_bytes());
    PING_REQUEST
}

/// Sans-IO outbound pacing: at most `max_per_sec` messages in any rolling second (MEXC
/// disconnects above 100/s). Fixed memory (one timestamp slot per allowed message).
#[derive(Debug, Clone)]
pub struct OutboundLimiter {
    sent_ns: Box<[u64]>,
    next: usize,
    filled: usize,
}

impl OutboundLimiter {
    /// `max_per_sec` ≥ 1; use [`super::MAX_OUTBOUND_MSGS_PER_SEC`] (or a margin below it).
    pub fn new(max_per_sec: u32) -> Self {
        OutboundLimiter {
            sent_ns: vec![0; max_per_sec.max(1) as usize].into_boxed_slice(),
            next: 0,
            filled: 0,
        }
    }

    /// Whether one more message may go out at `now_ns` (monotonic). Does not record it.
    pub fn can_send(&self, now_ns: u64) -> bool {
        self.filled < self.sent_ns.len()
            || now_ns.saturating_sub(self.sent_ns[self.next]) >= 1_000_000_000
    }

    /// Earliest monotonic time a message may be sent (`now_ns` if now).
    pub fn next_send_ns(&self, now_ns: u64) -> u64 {
        if self.can_send(now_ns) {
            now_ns
        } else {
            self.sent_ns[self.next] + 1_000_000_000
        }
    }

    /// Try to take a slot at `now_ns`; `true` = send now (recorded), `false` = wait.
    pub fn try_send(&mut self, now_ns: u64) -> bool {
        if !self.can_send(now_ns) {
            return false;
        }
        self.sent_ns[self.next] = now_ns;
        self.next = (self.next + 1) % self.sent_ns.len();
        self.filled = (self.filled + 1).min(self.sent_ns.len());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_exact_json() {
        let mut buf = Vec::with_capacity(256);
        let a = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT";
        let b = "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT";
        assert_eq!(
            write_subscribe(&mut buf, &[a, b], 7),
            r#"{"method":"SUBSCRIPTION","params":["spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT","spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"],"id":7}"#
        );
        let cap = buf.capacity();
        assert_eq!(
            write_unsubscribe(&mut buf, &[a], 0),
            r#"{"method":"UNSUBSCRIPTION","params":["spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"],"id":0}"#
        );
        assert_eq!(buf.capacity(), cap, "buffer reused");
        assert_eq!(write_ping(&mut buf), r#"{"method":"PING"}"#);
        assert_eq!(
            write_subscribe(&mut buf, &["a\"b\\c\n"], u64::MAX),
            r#"{"method":"SUBSCRIPTION","params":["a\"b\\c\u000a"],"id":18446744073709551615}"#
        );
        let v: serde_json::Value =
            serde_json::from_str(write_subscribe(&mut buf, &[a], 3)).unwrap();
        assert_eq!(v["params"][0], a);
    }

    #[test]
    fn limiter_allows_n_per_rolling_second() {
        let mut l = OutboundLimiter::new(3);
        let t0 = 5_000_000_000u64;
        assert!(l.try_send(t0));
        assert!(l.try_send(t0 + 1));
        assert!(l.try_send(t0 + 2));
        assert!(!l.try_send(t0 + 3));
        assert_eq!(l.next_send_ns(t0 + 3), t0 + 1_000_000_000);
        assert!(l.try_send(t0 + 1_000_000_000));
        assert!(!l.try_send(t0 + 1_000_000_000));
        assert!(l.try_send(t0 + 1_000_000_001));
    }
}
