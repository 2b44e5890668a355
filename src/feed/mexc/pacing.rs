//! Outbound pacing: every frame sent on a MEXC connection goes through its [`ConnOut`] — a hard
//! cap of [`OUTBOUND_PER_SEC`] over any rolling second ([`OutboundLimiter`], the venue allows
//! 100) and a token bucket on top that smooths bursts. What cannot go now is queued and sent
//! from `on_tick`. Subscription requests are tracked per connection for their ack.

use super::MexcFeed;
use crate::channel::Kind;
use crate::exchange::mexc::{self as mx, OutboundLimiter, SubscriptionTracker};
use crate::feed::{encode_id, PongWatch};
use crate::net::{ConnId, Outbox};
use std::collections::VecDeque;

/// Outbound frames per second per connection, hard cap over any rolling second (venue limit
/// 100, counted by the server in its own windows on arrival).
pub(super) const OUTBOUND_PER_SEC: u32 = 90;
/// Smoothing on top of the cap: a burst of at most this many, then [`SMOOTH_PER_SEC`]. A
/// queue drained at the cap's boundary would otherwise land two full bursts in one server
/// window when arrival jitter shifts them.
const SMOOTH_BURST: u64 = 10;
const SMOOTH_PER_SEC: u64 = 60;
/// Token bucket (sans-IO): `burst` tokens, refilled at `per_sec`.
struct Bucket {
    /// Tokens × 1e9 (ns-scaled, integer arithmetic).
    scaled: u64,
    last_ns: u64,
}

impl Bucket {
    fn new() -> Self {
        Bucket {
            scaled: SMOOTH_BURST * 1_000_000_000,
            last_ns: 0,
        }
    }

    fn refill(&mut self, now_ns: u64) {
        let dt = now_ns.saturating_sub(self.last_ns);
        self.last_ns = now_ns;
        self.scaled = self
            .scaled
            .saturating_add(dt.saturating_mul(SMOOTH_PER_SEC))
            .min(SMOOTH_BURST * 1_000_000_000);
    }

    fn has(&mut self, now_ns: u64) -> bool {
        self.refill(now_ns);
        self.scaled >= 1_000_000_000
    }

    fn take(&mut self) {
        self.scaled = self.scaled.saturating_sub(1_000_000_000);
    }
}

/// Per-connection outbound state.
pub(super) struct ConnOut {
    limiter: OutboundLimiter,
    bucket: Bucket,
    pub(super) queue: VecDeque<String>,
    pub(super) tracker: SubscriptionTracker,
    /// PONG liveness of this connection.
    pub(super) pong: PongWatch,
    /// Its subscriptions were requested (a private rotation's replacement).
    pub(super) subscribed_once: bool,
}

impl ConnOut {
    pub(super) fn new() -> Self {
        ConnOut {
            limiter: OutboundLimiter::new(OUTBOUND_PER_SEC),
            bucket: Bucket::new(),
            queue: VecDeque::new(),
            tracker: SubscriptionTracker::new(),
            pong: PongWatch::default(),
            subscribed_once: false,
        }
    }

    /// Take a send slot at `now_ns` if both the cap and the smoothing allow one.
    pub(super) fn try_send(&mut self, now_ns: u64) -> bool {
        if self.bucket.has(now_ns) && self.limiter.try_send(now_ns) {
            self.bucket.take();
            true
        } else {
            false
        }
    }
}

impl MexcFeed {
    pub(super) fn send(&mut self, out: &mut Outbox<'_>, conn: ConnId, text: &str, now: u64) {
        let Some(o) = self.outs.get_mut(conn.0 as usize) else {
            return;
        };
        if !out.is_live(conn) {
            return;
        }
        if o.queue.is_empty() && o.try_send(now) {
            let _ = out.send_text(conn, text);
        } else {
            o.queue.push_back(text.to_string());
        }
    }

    pub(super) fn drain_queues(&mut self, out: &mut Outbox<'_>, now: u64) {
        for (i, o) in self.outs.iter_mut().enumerate() {
            if o.queue.is_empty() {
                continue;
            }
            let conn = ConnId(i as u16);
            if !out.is_live(conn) {
                o.queue.clear();
                continue;
            }
            while !o.queue.is_empty() && o.try_send(now) {
                if let Some(t) = o.queue.pop_front() {
                    let _ = out.send_text(conn, &t);
                }
            }
        }
    }

    /// (Un)subscribe one channel on `conn`, tracked for its ack.
    pub(super) fn request(
        &mut self,
        out: &mut Outbox<'_>,
        conn: ConnId,
        kind: Kind,
        si: Option<usize>,
        subscribe: bool,
        now: u64,
    ) {
        let ch = self.channel_name(kind, si).to_string();
        if ch.is_empty() {
            return;
        }
        let id = encode_id(kind, si);
        let text = if subscribe {
            mx::write_subscribe(&mut self.buf, &[&ch], id).to_string()
        } else {
            mx::write_unsubscribe(&mut self.buf, &[&ch], id).to_string()
        };
        if !out.is_live(conn) {
            return;
        }
        self.outs[conn.0 as usize].tracker.on_sent(id, &[&ch], now);
        self.send(out, conn, &text, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_bursts_10_then_60_per_second_never_70_in_any_second() {
        let mut o = ConnOut::new();
        let mut sent = Vec::new();
        // Try every millisecond for 5 s with an endless queue.
        for ms in 0..5_000u64 {
            let now = 1_000_000_000 + ms * 1_000_000;
            while o.try_send(now) {
                sent.push(now);
            }
        }
        assert_eq!(sent.iter().filter(|&&t| t == 1_000_000_000).count(), 10);
        for (i, &t) in sent.iter().enumerate() {
            let in_window = sent[i..]
                .iter()
                .take_while(|&&u| u < t + 1_000_000_000)
                .count();
            assert!(in_window <= 70, "{in_window} sends in the second from {t}");
        }
        // Sustained rate ≈ 60/s.
        assert!((290..=320).contains(&sent.len()), "{}", sent.len());
    }
}
