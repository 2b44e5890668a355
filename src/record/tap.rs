//! The feed thread's side of a recording: copy into the byte ring, never wait.

use super::ring::ByteProducer;
use super::{Kind, RecHeader, FLAG_REDACTED};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

/// Counters a tap shares with its recorder and the report (relaxed; written by the feed thread).
#[derive(Debug, Default)]
pub struct TapStats {
    /// Records written into the ring.
    pub records: AtomicU64,
    /// Payload bytes written into the ring.
    pub bytes: AtomicU64,
    /// Records lost because the ring was full (each loss is also a `Gap` record in the file).
    pub dropped: AtomicU64,
}

/// The recording tap a feed thread owns (in its reactor). Every method copies into the
/// pre-allocated ring or, when it is full, counts a drop: no allocation, no lock, no wait.
pub struct Tap {
    ring: ByteProducer,
    /// Drops not yet reported by a `Gap` record.
    pending_gap: u64,
    stats: Arc<TapStats>,
    /// Wall minus monotonic ns, refreshed by the recorder thread.
    wall_offset: Arc<AtomicI64>,
    /// Connections whose outbound frames are left out (private streams: signed logins,
    /// listen keys), one bit per connection id below 64.
    redact_out: u64,
}

impl Tap {
    pub(crate) fn new(
        ring: ByteProducer,
        stats: Arc<TapStats>,
        wall_offset: Arc<AtomicI64>,
    ) -> Tap {
        Tap {
            ring,
            pending_gap: 0,
            stats,
            wall_offset,
            redact_out: 0,
        }
    }

    /// The counters.
    pub fn stats(&self) -> &Arc<TapStats> {
        &self.stats
    }

    /// Leave the payload of `conn`'s outbound frames out (or not).
    pub fn set_redact_out(&mut self, conn: u16, on: bool) {
        if conn < 64 {
            if on {
                self.redact_out |= 1 << conn;
            } else {
                self.redact_out &= !(1 << conn);
            }
        }
    }

    #[inline]
    fn put(&mut self, mut h: RecHeader, parts: &[&[u8]]) {
        h.wall_ns = (h.mono_ns as i64).wrapping_add(self.wall_offset.load(Ordering::Relaxed));
        if self.pending_gap != 0 {
            let mut g = RecHeader::new(Kind::Gap, 0, h.mono_ns, self.pending_gap);
            g.wall_ns = h.wall_ns;
            if !self.ring.write(&mut g, &[]) {
                self.drop_one();
                return;
            }
            self.pending_gap = 0;
        }
        if self.ring.write(&mut h, parts) {
            let len: usize = parts.iter().map(|p| p.len()).sum();
            // Relaxed add on a line only this thread writes: a plain load + store.
            let s = &self.stats;
            s.records
                .store(s.records.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            s.bytes.store(
                s.bytes.load(Ordering::Relaxed) + len as u64,
                Ordering::Relaxed,
            );
        } else {
            self.drop_one();
        }
    }

    #[cold]
    fn drop_one(&mut self) {
        self.pending_gap += 1;
        let d = &self.stats.dropped;
        d.store(d.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// A WebSocket message as received (`recv_ns`: CLOCK_MONOTONIC of its last bytes).
    #[inline]
    pub fn message(&mut self, conn: u16, text: bool, data: &[u8], recv_ns: u64) {
        let kind = if text { Kind::MsgText } else { Kind::MsgBinary };
        self.put(RecHeader::new(kind, conn, recv_ns, 0), &[data]);
    }

    /// A frame we sent.
    #[inline]
    pub fn outbound(&mut self, conn: u16, text: bool, data: &[u8], now_ns: u64) {
        let kind = if text { Kind::OutText } else { Kind::OutBinary };
        let mut h = RecHeader::new(kind, conn, now_ns, data.len() as u64);
        if conn < 64 && self.redact_out & (1 << conn) != 0 {
            h.flags = FLAG_REDACTED;
            self.put(h, &[]);
        } else {
            self.put(h, &[data]);
        }
    }

    /// A connection became live.
    pub fn up(&mut self, conn: u16, spec: u16, now_ns: u64) {
        self.put(RecHeader::new(Kind::Up, conn, now_ns, spec as u64), &[]);
    }

    /// A connection went down.
    pub fn down(&mut self, conn: u16, reason: crate::net::DownReason, now_ns: u64) {
        let code = super::down_code(reason);
        self.put(RecHeader::new(Kind::Down, conn, now_ns, code), &[]);
    }

    /// A REST reply the feed consumed: `status` 0 = a transport error whose text is `body`.
    pub fn rest(&mut self, id: u64, status: u16, body: &[u8], now_ns: u64) {
        self.put(RecHeader::new(Kind::Rest, status, now_ns, id), &[body]);
    }

    /// Record a control-thread reply (an error's text is its `Display`, written into a stack
    /// buffer: no allocation).
    pub fn rest_reply(&mut self, reply: &crate::net::HttpReply, now_ns: u64) {
        match &reply.result {
            Ok((status, body)) => self.rest(reply.id, *status, body, now_ns),
            Err(e) => {
                let mut buf = [0u8; 256];
                let n = {
                    use std::io::Write;
                    let mut w = &mut buf[..];
                    let _ = write!(w, "{e}");
                    256 - w.len()
                };
                self.rest(reply.id, 0, &buf[..n], now_ns);
            }
        }
    }
}

impl Drop for Tap {
    /// The feed is done (cold): losses not yet marked get their gap record, waiting up to
    /// 100 ms for the recorder to make room.
    fn drop(&mut self) {
        for _ in 0..100 {
            if self.pending_gap == 0 {
                return;
            }
            let mut g = super::RecHeader::new(
                Kind::Gap,
                0,
                crate::record::real_mono_ns(),
                self.pending_gap,
            );
            g.wall_ns = (g.mono_ns as i64).wrapping_add(self.wall_offset.load(Ordering::Relaxed));
            if self.ring.write(&mut g, &[]) {
                self.pending_gap = 0;
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}
