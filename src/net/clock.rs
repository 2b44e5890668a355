//! The venue's clock as seen from here: an offset measured from the exchange's server-time
//! endpoint over the control thread (REST), so signed timestamps are the venue's time, not
//! this machine's. Sans-IO: the feed submits the request, hands the reply in, and signs with
//! [`ServerClock::now_ms`] (local wall clock + offset, no I/O, no lock).
//!
//! Why: MEXC accepts a signed request when `timestamp < serverTime + 1000` and
//! `serverTime - timestamp <= recvWindow` (protocols.md §1.8) and answers `700003` otherwise
//! (§1.9), which triggers [`ServerClock::resync`]; Gate.io wants the signed `time` within 60 s
//! of its server (protocols.md §2). Endpoints: MEXC `GET /api/v3/time` → `{"serverTime":<ms>}`
//! (MEXC spot v3 docs, "Check Server Time"), Gate.io `GET /api/v4/spot/time` →
//! `{"server_time":<ms>}` (Gate.io API v4 docs, "Get server current time"; the gateio-rs
//! client's `api/spot/get_server_time.rs` uses the same path).
//!
//! The offset is `server - (sent + received) / 2` (the server read its clock about half way
//! through the round trip), measured at start, every [`REMEASURE_NS`], and at once after a
//! clock refusal; a failed measurement is retried after 2 s … 60 s and signing carries on with
//! the last offset (0 before the first).

use crate::types::wall_ms;

/// Path of MEXC's server time (`{"serverTime":<ms>}`).
pub const MEXC_TIME_PATH: &str = "/api/v3/time";
/// Path of Gate.io's server time (`{"server_time":<ms>}`).
pub const GATE_TIME_PATH: &str = "/api/v4/spot/time";
/// Period of the routine re-measurement (clocks drift; NTP steps the local one).
pub const REMEASURE_NS: u64 = 600_000_000_000;
const RETRY_MIN_NS: u64 = 2_000_000_000;
const RETRY_MAX_NS: u64 = 60_000_000_000;

/// The venue's server time from a time endpoint's answer: `serverTime` (MEXC) or
/// `server_time` (Gate.io), milliseconds as a JSON integer. `None` for anything else.
pub fn parse_server_time(http_status: u16, body: &[u8]) -> Option<i64> {
    if !(200..300).contains(&http_status) {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let t = v.get("serverTime").or_else(|| v.get("server_time"))?;
    t.as_i64()
        .or_else(|| t.as_str().and_then(|s| s.parse().ok()))
        .filter(|&t| t > 0)
}

/// Offset of the venue's clock from this machine's, with its measurement schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerClock {
    offset_ms: i64,
    measured: bool,
    /// Local wall clock (ms) when the outstanding request was sent.
    sent_wall_ms: Option<i64>,
    next_at_ns: u64,
    fail_streak: u32,
}

impl ServerClock {
    /// Not measured yet: offset 0, a measurement due now.
    pub const fn new() -> Self {
        ServerClock {
            offset_ms: 0,
            measured: false,
            sent_wall_ms: None,
            next_at_ns: 0,
            fail_streak: 0,
        }
    }

    /// The venue's time now (ms): local wall clock plus the offset.
    #[inline]
    pub fn now_ms(&self) -> i64 {
        wall_ms().saturating_add(self.offset_ms)
    }

    /// The measured offset (venue minus local, ms).
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms
    }

    /// Whether a measurement (successful or not) has completed since start.
    pub fn measured(&self) -> bool {
        self.measured
    }

    /// Whether a request is out.
    pub fn in_flight(&self) -> bool {
        self.sent_wall_ms.is_some()
    }

    /// Whether a measurement should be sent now.
    pub fn due(&self, now_ns: u64) -> bool {
        self.sent_wall_ms.is_none() && now_ns >= self.next_at_ns
    }

    /// The request was submitted.
    pub fn sent(&mut self) {
        self.sent_wall_ms = Some(wall_ms());
    }

    /// The request was sent at local wall time `wall_ms` (tests, the control thread).
    pub fn sent_at(&mut self, wall_ms: i64) {
        self.sent_wall_ms = Some(wall_ms);
    }

    /// The answer (`Some(server ms)`, or `None` when it failed) arrived at `now_ns`.
    /// Returns whether the offset was updated.
    pub fn on_reply(&mut self, server_ms: Option<i64>, now_ns: u64) -> bool {
        self.on_reply_at(server_ms, wall_ms(), now_ns)
    }

    /// [`ServerClock::on_reply`] with the local receive time given (tests).
    pub fn on_reply_at(&mut self, server_ms: Option<i64>, recv_wall_ms: i64, now_ns: u64) -> bool {
        let sent = self.sent_wall_ms.take().unwrap_or(recv_wall_ms);
        self.measured = true;
        match server_ms {
            Some(s) => {
                let mid = sent + (recv_wall_ms - sent).max(0) / 2;
                self.offset_ms = s - mid;
                self.fail_streak = 0;
                self.next_at_ns = now_ns + REMEASURE_NS;
                true
            }
            None => {
                let b = (RETRY_MIN_NS << self.fail_streak.min(8)).min(RETRY_MAX_NS);
                self.fail_streak = self.fail_streak.saturating_add(1);
                self.next_at_ns = now_ns + b;
                false
            }
        }
    }

    /// The venue refused a timestamp (MEXC `700003`): measure again at once.
    pub fn resync(&mut self) {
        self.next_at_ns = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_is_taken_at_the_middle_of_the_round_trip() {
        let mut c = ServerClock::new();
        assert!(c.due(0) && !c.measured());
        c.sent_wall_ms = Some(1_000);
        assert!(c.in_flight() && !c.due(0));
        assert!(c.on_reply_at(Some(61_050), 1_100, 5));
        assert_eq!(c.offset_ms(), 60_000);
        assert!(c.measured() && !c.due(6) && c.due(5 + REMEASURE_NS));
        c.resync();
        assert!(c.due(6));
        c.sent_wall_ms = Some(0);
        assert!(!c.on_reply_at(None, 0, 10));
        assert_eq!(c.offset_ms(), 60_000, "a failure keeps the last offset");
        assert!(!c.due(10) && c.due(10 + RETRY_MIN_NS));
    }

    #[test]
    fn server_time_bodies() {
        assert_eq!(
            parse_server_time(200, br#"{"serverTime":1645539742000}"#),
            Some(1645539742000)
        );
        assert_eq!(
            parse_server_time(200, br#"{"server_time":1597026383085}"#),
            Some(1597026383085)
        );
        assert_eq!(parse_server_time(500, br#"{"serverTime":1}"#), None);
        assert_eq!(parse_server_time(200, b"nope"), None);
        assert_eq!(parse_server_time(200, br#"{"x":1}"#), None);
    }
}
