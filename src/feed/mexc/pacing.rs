//! Outbound pacing: every frame sent on a MEXC connection goes through its [`ConnOut`] — a hard
//! cap of [`OUTBOUND_PER_SEC`] over any rolling second ([`OutboundLimiter`], the venue allows
//! 100) and a token bucket on top that smooths bursts. What cannot go now is queued and sent
//! from `on_tick` through a bounded queue ([`OutQueue`]: fixed capacity, allocated when the
//! feed is built, never grown; a frame that does not fit is dropped, counted in
//! `outbound_dropped` and logged as [`FeedErrorKind::OutboundQueueFull`] — a dropped subscribe
//! is not waited for as an ack but sent again after the retry backoff). Subscription requests
//! are tracked per connection for their ack.

use super::MexcFeed;
use crate::channel::Kind;
use crate::exchange::mexc::{self as mx, OutboundLimiter, SubscriptionTracker};
use crate::feed::{encode_id, FeedErrorKind, PongWatch};
use crate::metrics::Counters;
use crate::net::{ConnId, Outbox};

/// Frames one connection can have waiting for a send slot: about 4 s of pacing. A shard
/// carries at most 30 channels (their (un)subscribes, a ping, a server-ping reply), so only
/// bind/unbind churn much faster than the pacing (60/s) fills it.
pub(crate) const OUT_QUEUE_FRAMES: usize = 256;
/// Longest frame the queue holds (a MEXC request names one channel: at most ~140 bytes).
/// 48 KiB per connection slot, allocated zeroed when the feed is built (64 slots: 3 MiB per
/// MEXC feed, mostly never touched).
pub(crate) const OUT_FRAME_BYTES: usize = 192;

/// A fixed-capacity FIFO of text frames: one buffer of [`OUT_QUEUE_FRAMES`] slots of
/// [`OUT_FRAME_BYTES`], allocated once; push, pop and clear never allocate.
pub(crate) struct OutQueue {
    buf: Box<[u8]>,
    lens: [u16; OUT_QUEUE_FRAMES],
    head: usize,
    len: usize,
}

impl OutQueue {
    pub(crate) fn new() -> Self {
        OutQueue {
            buf: vec![0; OUT_QUEUE_FRAMES * OUT_FRAME_BYTES].into_boxed_slice(),
            lens: [0; OUT_QUEUE_FRAMES],
            head: 0,
            len: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Queue `text` last; `false` (nothing queued) when full or longer than a slot.
    pub(crate) fn push(&mut self, text: &str) -> bool {
        if self.len == OUT_QUEUE_FRAMES || text.len() > OUT_FRAME_BYTES {
            return false;
        }
        let i = (self.head + self.len) % OUT_QUEUE_FRAMES;
        self.buf[i * OUT_FRAME_BYTES..i * OUT_FRAME_BYTES + text.len()]
            .copy_from_slice(text.as_bytes());
        self.lens[i] = text.len() as u16;
        self.len += 1;
        true
    }

    /// The oldest frame.
    pub(crate) fn front(&self) -> Option<&str> {
        if self.len == 0 {
            return None;
        }
        let i = self.head;
        let b = &self.buf[i * OUT_FRAME_BYTES..i * OUT_FRAME_BYTES + self.lens[i] as usize];
        // Whole `&str`s were copied in: always UTF-8.
        std::str::from_utf8(b).ok()
    }

    pub(crate) fn pop_front(&mut self) {
        if self.len > 0 {
            self.head = (self.head + 1) % OUT_QUEUE_FRAMES;
            self.len -= 1;
        }
    }

    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

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
    pub(super) queue: OutQueue,
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
            queue: OutQueue::new(),
            tracker: SubscriptionTracker::new(),
            pong: PongWatch::default(),
            subscribed_once: false,
        }
    }

    /// A fresh state for a new connection in this slot, keeping the queue's buffer and the
    /// limiter's window (no allocation on reconnect; the last second's sends of the previous
    /// connection only make the new one's first second stricter).
    pub(super) fn reset(&mut self) {
        self.bucket = Bucket::new();
        self.queue.clear();
        self.tracker = SubscriptionTracker::new();
        self.pong = PongWatch::default();
        self.subscribed_once = false;
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
    /// Send `text` on `conn` now, or queue it for the pacing. `false` when it was dropped
    /// (the queue is full: counted and logged) or the connection is not live.
    pub(super) fn send(
        &mut self,
        out: &mut Outbox<'_>,
        conn: ConnId,
        text: &str,
        now: u64,
    ) -> bool {
        let Some(o) = self.outs.get_mut(conn.0 as usize) else {
            return false;
        };
        if !out.is_live(conn) {
            return false;
        }
        if o.queue.is_empty() && o.try_send(now) {
            let _ = out.send_text(conn, text);
        } else if !o.queue.push(text) {
            Counters::add(&self.core.shared.stats.outbound_dropped, 1);
            let e = self
                .core
                .error(FeedErrorKind::OutboundQueueFull)
                .code(o.queue.len() as i64)
                .detail(text);
            self.core.log_error(e);
            return false;
        }
        true
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
                if let Some(t) = o.queue.front() {
                    let _ = out.send_text(conn, t);
                }
                o.queue.pop_front();
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
        if self.send(out, conn, &text, now) {
            self.outs[conn.0 as usize].tracker.on_sent(id, &[&ch], now);
        } else if let (true, Some(si), false) = (subscribe, si, kind.is_private()) {
            // Dropped by a full queue: not waited for as an ack; the subscription is sent
            // again after the retry backoff (once per episode, however many were dropped).
            let scheduled = self
                .retry
                .get(si)
                .is_some_and(|r| r[crate::feed::public_index(kind)].retry_at_ns != 0);
            if !scheduled {
                self.on_refused(kind, si, false, now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Review finding 3: the outbound queue was an unbounded `VecDeque<String>`. It holds
    /// [`OUT_QUEUE_FRAMES`] frames, refuses more (and frames longer than a slot), keeps FIFO
    /// order across wrap-around, and reuses its storage.
    #[test]
    fn finding3_outbound_queue_is_bounded_fifo_and_refuses_overflow() {
        let mut q = OutQueue::new();
        let storage = q.buf.as_ptr();
        for round in 0..3 {
            for i in 0..OUT_QUEUE_FRAMES {
                assert!(q.push(&format!("{round}-{i}")), "frame {i} refused");
            }
            assert!(!q.push("one too many"));
            assert_eq!(q.len(), OUT_QUEUE_FRAMES);
            // Half out, half in again: wraps around the buffer.
            for i in 0..OUT_QUEUE_FRAMES / 2 {
                assert_eq!(q.front(), Some(format!("{round}-{i}").as_str()));
                q.pop_front();
            }
            for i in 0..OUT_QUEUE_FRAMES / 2 {
                assert!(q.push(&format!("w{i}")));
            }
            assert!(!q.push("full again"));
            for i in OUT_QUEUE_FRAMES / 2..OUT_QUEUE_FRAMES {
                assert_eq!(q.front(), Some(format!("{round}-{i}").as_str()));
                q.pop_front();
            }
            for i in 0..OUT_QUEUE_FRAMES / 2 {
                assert_eq!(q.front(), Some(format!("w{i}").as_str()));
                q.pop_front();
            }
            assert!(q.is_empty() && q.front().is_none());
        }
        assert!(!q.push(&"x".repeat(OUT_FRAME_BYTES + 1)));
        assert!(q.push(&"x".repeat(OUT_FRAME_BYTES)));
        q.clear();
        assert!(q.is_empty());
        assert_eq!(q.buf.as_ptr(), storage, "the storage was never replaced");
    }

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
