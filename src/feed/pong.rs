//! App-level ping liveness, the same rule for every venue: a connection whose venue stops
//! answering our pings while the socket stays open (data may still flow, so the idle timer
//! would never fire) is replaced after [`PONG_TIMEOUT_PINGS`] ping periods without a pong,
//! counted in [`FeedStats::pong_timeouts`](super::FeedStats::pong_timeouts).
//!
//! Sans-IO: each venue keeps one [`PongWatch`] per connection, arms it when the connection
//! opens, feeds it the receive time of every pong ([`FeedCore::take_pong`] says whether the
//! frame just decoded was one) and asks [`FeedCore::check_pong`] from its periodic tick.

use super::FeedCore;
use crate::metrics::Counters;
use crate::net::{ConnId, Outbox};

/// Ping periods without a pong before a connection is replaced.
pub(crate) const PONG_TIMEOUT_PINGS: u64 = 3;

/// When one connection last showed it was alive (its last pong, or its open). `0` = not armed
/// (closed, or never opened): never times out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PongWatch {
    last_pong_ns: u64,
}

impl PongWatch {
    /// The connection opened at `now_ns`: the timeout runs from here.
    pub(crate) fn arm(&mut self, now_ns: u64) {
        self.last_pong_ns = now_ns;
    }

    /// When the connection last showed it was alive (its last pong, or its open); 0 = never.
    pub(crate) fn last_ns(&self) -> u64 {
        self.last_pong_ns
    }

    /// A pong arrived at `recv_ns`.
    pub(crate) fn pong(&mut self, recv_ns: u64) {
        self.last_pong_ns = recv_ns;
    }

    /// Whether more than `timeout_ns` passed since the last sign of life; if so the watch
    /// restarts at `now_ns` (one replacement per timeout).
    fn expired(&mut self, now_ns: u64, timeout_ns: u64) -> bool {
        if self.last_pong_ns != 0 && now_ns.saturating_sub(self.last_pong_ns) > timeout_ns {
            self.last_pong_ns = now_ns;
            true
        } else {
            false
        }
    }
}

impl FeedCore {
    /// Whether the frame decoded last carried a pong (clears the mark).
    #[inline]
    pub(crate) fn take_pong(&mut self) -> bool {
        std::mem::take(&mut self.pong_seen)
    }

    /// Whether the frame decoded last was the venue's own ping, to be answered (clears it).
    #[inline]
    pub(crate) fn take_ping(&mut self) -> bool {
        std::mem::take(&mut self.ping_seen)
    }

    /// Replace `conn` (a reconnect through the reactor, counted in `pong_timeouts`) if it is
    /// live and `watch` saw no pong for [`PONG_TIMEOUT_PINGS`] periods of `ping_interval_ns`.
    pub(crate) fn check_pong(
        &self,
        watch: &mut PongWatch,
        conn: ConnId,
        now: u64,
        ping_interval_ns: u64,
        out: &mut Outbox<'_>,
    ) -> bool {
        if out.is_live(conn) && watch.expired(now, PONG_TIMEOUT_PINGS * ping_interval_ns) {
            Counters::add(&self.shared.stats.pong_timeouts, 1);
            out.reconnect(conn);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_out_after_the_limit_once_per_period_and_never_unarmed() {
        let mut w = PongWatch::default();
        assert!(!w.expired(u64::MAX / 2, 10));
        w.arm(100);
        assert!(!w.expired(110, 10));
        assert!(w.expired(111, 10));
        // Restarted at the timeout: the next replacement needs another full period.
        assert!(!w.expired(121, 10));
        w.pong(130);
        assert!(!w.expired(140, 10));
        assert!(w.expired(141, 10));
    }
}
