//! Outbound JSON requests written into a caller-owned, reused buffer (protocols.md §1.3):
//! `{"method":"SUBSCRIPTION","params":[...],"id":N}`, `UNSUBSCRIPTION`, `{"method":"PING"}`.
//!
//! The buffer is cleared and written; once its capacity covers the largest request, nothing
//! allocates. Channel strings are JSON-escaped (valid channel names never need it).

/// `{"method":"PING"}` — the application keepalive (server answers `{"id":0,"code":0,"msg":"PONG"}`).
pub const PING_REQUEST: &str = r#"{"method":"PING"}"#;
/// Our answer to a server-sent `{"method":"PING"}` (protocols.md §8 item 1: third-party notes
/// say "reply `{"method":"PONG"}` to server PINGs").
pub const SERVER_PING_REPLY: &str = r#"{"method":"PONG"}"#;

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    push_escaped(out, s);
    out.push(b'"');
}

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

/// One in-flight `SUBSCRIPTION`/`UNSUBSCRIPTION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRequest {
    /// Request `id` as written; 0 = none (then matched by channel set only).
    pub id: u64,
    /// Channel names in the request's `params`.
    pub channels: Vec<String>,
    /// Caller's monotonic time when it was sent (`now_ns` passed to `on_sent`).
    pub sent_ns: u64,
}

/// What a control frame meant for the in-flight requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckOutcome {
    /// `msg` echoed exactly the request's channels.
    Confirmed(PendingRequest),
    /// `Not Subscribed successfully! [...]` (code 0) or a non-zero code for this request.
    Rejected(PendingRequest),
    /// Not an ack/rejection, or no in-flight request matches (e.g. an ack for other channels).
    Unmatched,
}

/// Sans-IO bookkeeping of subscription requests (cold path): record what was sent, feed every
/// control message, poll for timeouts with the caller's monotonic `now_ns`. Acks are matched by
/// request id when the server echoes a non-zero one, otherwise by channel set
/// ([`super::ack_matches`]); a rejection is matched by the channel list in its brackets.
#[derive(Debug, Default, Clone)]
pub struct SubscriptionTracker {
    pending: Vec<PendingRequest>,
}

impl SubscriptionTracker {
    /// No request in flight.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record a request just written with [`write_subscribe`]/[`write_unsubscribe`].
    pub fn on_sent(&mut self, id: u64, channels: &[&str], now_ns: u64) {
        self.pending.push(PendingRequest {
            id,
            channels: channels.iter().map(|c| c.to_string()).collect(),
            sent_ns: now_ns,
        });
    }

    /// Requests still waiting for an answer.
    pub fn pending(&self) -> &[PendingRequest] {
        &self.pending
    }

    fn take(&mut self, i: usize) -> PendingRequest {
        self.pending.remove(i)
    }

    fn find(&self, id: Option<u64>, chs: Option<&str>) -> Option<usize> {
        if let Some(id) = id.filter(|&i| i != 0) {
            if let Some(i) = self.pending.iter().position(|p| p.id == id) {
                return Some(i);
            }
        }
        let chs = chs?;
        self.pending.iter().position(|p| {
            let v: Vec<&str> = p.channels.iter().map(String::as_str).collect();
            super::ack_matches(chs, &v)
        })
    }

    /// Feed a decoded control message.
    pub fn on_control(&mut self, m: &crate::event::ControlMsg<'_>) -> AckOutcome {
        use crate::event::ControlKind;
        match m.kind {
            ControlKind::Ack => {
                let Some(msg) = m.message else {
                    return AckOutcome::Unmatched;
                };
                // By id first, but only a channel-set match confirms.
                if let Some(id) = m.req_id.filter(|&i| i != 0) {
                    if let Some(i) = self.pending.iter().position(|p| p.id == id) {
                        let v: Vec<&str> = self.pending[i]
                            .channels
                            .iter()
                            .map(String::as_str)
                            .collect();
                        return if super::ack_matches(msg, &v) {
                            AckOutcome::Confirmed(self.take(i))
                        } else {
                            AckOutcome::Rejected(self.take(i))
                        };
                    }
                }
                match self.find(None, Some(msg)) {
                    Some(i) => AckOutcome::Confirmed(self.take(i)),
                    None => AckOutcome::Unmatched,
                }
            }
            ControlKind::Rejected | ControlKind::Error => match self.find(m.req_id, m.channel) {
                Some(i) => AckOutcome::Rejected(self.take(i)),
                None => AckOutcome::Unmatched,
            },
            ControlKind::Pong | ControlKind::Notice | ControlKind::Ping => AckOutcome::Unmatched,
        }
    }

    /// The oldest request unanswered for `timeout_ns` or more, removed.
    pub fn poll_timeout(&mut self, now_ns: u64, timeout_ns: u64) -> Option<PendingRequest> {
        let i = self
            .pending
            .iter()
            .position(|p| now_ns.saturating_sub(p.sent_ns) >= timeout_ns)?;
        Some(self.take(i))
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
    fn tracker_matches_acks_rejections_and_timeouts() {
        use crate::event::{ControlKind, ControlMsg};
        let ctl = |kind, channel, message, req_id| ControlMsg {
            kind,
            channel,
            event: None,
            message,
            req_id,
            code: Some(0),
            payload0: None,
        };
        let a = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT";
        let b = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT";
        let mut t = SubscriptionTracker::new();
        t.on_sent(1, &[a], 10);
        t.on_sent(2, &[a, b], 20);
        // Server echoes id 0: matched by channel set.
        let ab = format!("{b},{a}");
        match t.on_control(&ctl(ControlKind::Ack, Some(&ab), Some(&ab), Some(0))) {
            AckOutcome::Confirmed(p) => assert_eq!(p.id, 2),
            o => panic!("{o:?}"),
        }
        // Ack with the right id but the wrong channels is a failure.
        t.on_sent(3, &[b], 30);
        assert!(matches!(
            t.on_control(&ctl(ControlKind::Ack, Some(a), Some(a), Some(3))),
            AckOutcome::Rejected(PendingRequest { id: 3, .. })
        ));
        assert_eq!(
            t.on_control(&ctl(ControlKind::Pong, None, Some("PONG"), Some(0))),
            AckOutcome::Unmatched
        );
        let rej = format!("Not Subscribed successfully! [{a}].  Reason： Blocked! ");
        match t.on_control(&ctl(ControlKind::Rejected, Some(a), Some(&rej), Some(0))) {
            AckOutcome::Rejected(p) => assert_eq!(p.id, 1),
            o => panic!("{o:?}"),
        }
        assert!(t.pending().is_empty());
        t.on_sent(4, &[a], 100);
        assert_eq!(t.poll_timeout(150, 100), None);
        assert_eq!(t.poll_timeout(200, 100).map(|p| p.id), Some(4));
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
