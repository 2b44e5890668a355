//! Private stream (listen-key lifecycle): with credentials and a bound private kind, the
//! venue's clock is measured first (`GET /api/v3/time`, [`ServerClock`]; every signed timestamp
//! is local time + that offset, and a `700003` "timestamp outside recvWindow" measures it
//! again), then `POST /api/v3/userDataStream` (signed) on the control thread → listen key →
//! private spec URL `?listenKey=KEY` → open → subscribe the bound private channels.
//!
//! Keep-alive: `PUT` every `setup.listen_key_keepalive` (30 min; a key lives 60 min after its
//! last keep-alive, protocols.md §1.8). A keep-alive that fails without saying the key is gone
//! (transport, HTTP 429/5xx, 403, a clock refusal, any other code) keeps the key and is retried
//! after 10 s, 20 s, 40 s, then every 60 s (never later than an eighth of the period), well
//! inside the key's remaining half hour. Only a listen-key error
//! ([`mx::MexcApiError::ListenKeyInvalid`]: 730708/730705) or a refused WebSocket upgrade
//! means a new key and a reconnect. REST failures are routed as `Error` events to the private
//! consumers; creation failures count in `auth_failures` and back off 2 s … 60 s. A private
//! reconnect sends `PrivateGap`; the planned 24 h rotation does not (make-before-break, see
//! `private_rotation.rs`). The key is `DELETE`d (best effort, bounded wait) when the feed ends.

use super::private_rotation::PrivateRotation;
use super::{MexcFeed, Role};
use crate::channel::Kind;
use crate::exchange::mexc as mx;
use crate::feed::{public_index, FeedError, FeedErrorKind};
use crate::metrics::Counters;
use crate::net::clock::{parse_server_time, ServerClock, MEXC_TIME_PATH};
use crate::net::{ConnId, DownReason, HttpMethod, HttpReply, HttpRequest, Outbox, SpecId};
use crate::ring::StatusKind;
use crate::types::now_ns;
use std::time::Duration;

/// REST ids of the listen-key calls (snapshot ids are symbol indices).
pub(super) const LK_CREATE: u64 = 1 << 40;
pub(super) const LK_KEEPALIVE: u64 = (1 << 40) + 1;
pub(super) const LK_CLOSE: u64 = (1 << 40) + 2;
/// REST id of the server-time measurement.
pub(super) const LK_TIME: u64 = (1 << 40) + 3;
/// Keep-alive retry after a failure that leaves the key valid: 10 s doubling up to 60 s
/// ("within about a minute"), never more than an eighth of the keep-alive period.
const KEEPALIVE_RETRY_MIN_NS: u64 = 10_000_000_000;
const KEEPALIVE_RETRY_MAX_NS: u64 = 60_000_000_000;
/// Listen-key creation backoff after a failure: 2 s doubling up to 60 s.
const KEY_BACKOFF_MIN_NS: u64 = 2_000_000_000;
const KEY_BACKOFF_MAX_NS: u64 = 60_000_000_000;

fn http_method(m: mx::HttpMethod) -> HttpMethod {
    match m {
        mx::HttpMethod::Get => HttpMethod::Get,
        mx::HttpMethod::Post => HttpMethod::Post,
        mx::HttpMethod::Put => HttpMethod::Put,
        mx::HttpMethod::Delete => HttpMethod::Delete,
    }
}
/// The private stream URL: `base?listenKey=KEY`, the key percent-encoded (a key is opaque
/// venue text; `&`, `#`, `+`, `%` or a space must not change the URL's meaning).
fn private_url(base: &str, key: &str) -> String {
    let mut url = String::with_capacity(base.len() + 11 + 3 * key.len());
    url.push_str(base);
    url.push_str(if base.contains('?') {
        "&listenKey="
    } else {
        "?listenKey="
    });
    mx::url_encode(key, &mut url);
    url
}

/// The listen key and the private connection.
pub(super) struct PrivateState {
    pub(super) spec: Option<SpecId>,
    pub(super) conn: Option<ConnId>,
    pub(super) key: Option<String>,
    pub(super) key_in_flight: bool,
    pub(super) next_key_at_ns: u64,
    pub(super) fail_streak: u32,
    /// When the next keep-alive is due (after a key, a success, or a failure's retry delay).
    pub(super) next_keepalive_ns: u64,
    pub(super) keepalive_in_flight: bool,
    /// Consecutive keep-alives that failed with the key still valid.
    pub(super) keepalive_fail_streak: u32,
    /// The venue's clock (offset from the time endpoint); signed timestamps use it.
    pub(super) clock: ServerClock,
    pub(super) opened_once: bool,
    pub(super) down_since_ns: Option<u64>,
    /// The connection must move to a new key once it arrives.
    pub(super) rekey: bool,
    /// The planned (24 h) make-before-break rotation of the private connection.
    pub(super) rotation: PrivateRotation,
}

impl PrivateState {
    pub(super) fn new() -> Self {
        PrivateState {
            spec: None,
            conn: None,
            key: None,
            key_in_flight: false,
            next_key_at_ns: 0,
            fail_streak: 0,
            next_keepalive_ns: 0,
            keepalive_in_flight: false,
            keepalive_fail_streak: 0,
            clock: ServerClock::new(),
            opened_once: false,
            down_since_ns: None,
            rekey: false,
            rotation: PrivateRotation::default(),
        }
    }
}

impl MexcFeed {
    /// Close the listen key (best effort, waits at most 1 s for the answer).
    pub(super) fn close_listen_key(&mut self) {
        if let (Some(key), Some(creds)) = (self.private.key.take(), self.creds.as_ref()) {
            let req = mx::close_listen_key_request(creds, &key, self.private.clock.now_ms(), None);
            if self.submit(LK_CLOSE, &req).is_ok() {
                let until = now_ns() + 1_000_000_000;
                while now_ns() < until {
                    match self.control.try_reply() {
                        Some(r) if r.id == LK_CLOSE => break,
                        Some(_) => {}
                        None => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            }
        }
    }

    fn submit(&self, id: u64, req: &mx::SignedRequest) -> Result<(), ()> {
        let headers = req
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        self.control
            .submit(HttpRequest {
                id,
                method: http_method(req.method),
                url: req.url(&self.setup.rest_url),
                headers,
                body: Vec::new(),
            })
            .map_err(|_| ())
    }

    fn private_bound(&self) -> bool {
        self.core.private_routes.iter().any(|&m| m != 0)
    }

    /// Route a private-stream error to every private consumer (once per consumer where the
    /// routing allows it), its text as the event's message, and log it.
    fn private_error(&mut self, e: FeedError) {
        let mut notified = 0u64;
        for kind in [Kind::Orders, Kind::Fills, Kind::Balances] {
            let m = self.core.private_routes[public_index(kind)];
            if m & !notified != 0 {
                let core = &mut self.core;
                e.with_text("", |msg| {
                    core.route_error(kind, None, e.code, "userDataStream", msg)
                });
                notified |= m;
            }
        }
        self.core.log_error(e);
    }

    /// Delay before the next listen-key attempt after `streak` consecutive failures.
    fn key_backoff(&mut self) -> u64 {
        let b = (KEY_BACKOFF_MIN_NS << self.private.fail_streak.min(8)).min(KEY_BACKOFF_MAX_NS);
        self.private.fail_streak = self.private.fail_streak.saturating_add(1);
        b
    }

    fn key_failed(&mut self, e: FeedError, now: u64) {
        Counters::add(&self.core.shared.stats.auth_failures, 1);
        self.private.next_key_at_ns = now + self.key_backoff();
        self.private_error(e);
    }

    pub(super) fn on_key_created(&mut self, out: &mut Outbox<'_>, reply: HttpReply, now: u64) {
        self.private.key_in_flight = false;
        let r = match reply.result {
            Ok((status, body)) => mx::parse_listen_key_response(status, &body).map_err(|e| {
                if e.api_error() == Some(mx::MexcApiError::TimestampOutsideRecvWindow) {
                    self.private.clock.resync();
                }
                let code = match &e {
                    mx::MexcRestError::Api {
                        code, http_status, ..
                    } => code.unwrap_or(*http_status as i64),
                    _ => status as i64,
                };
                let rec = self.core.error(FeedErrorKind::ListenKeyRefused);
                rec.code(code).detail_of(&e)
            }),
            Err(e) => {
                let rec = self.core.error(FeedErrorKind::ListenKeyRequestFailed);
                Err(rec.detail_of(&e))
            }
        };
        match r {
            Ok(key) => {
                self.private.next_keepalive_ns = now + self.keepalive_period();
                self.private.keepalive_fail_streak = 0;
                let url = private_url(&self.setup.private_ws_url, &key);
                if let Some(spec) = self.private.spec {
                    if let Err(e) = out.set_spec_url(spec, &url) {
                        // The error quotes the URL: the key is redacted from it.
                        let rec = self.core.error(FeedErrorKind::PrivateUrl);
                        self.core.log_error(rec.detail_redacted(&e, &key));
                    }
                }
                self.private.key = Some(key);
                if self.private.rekey {
                    self.private.rekey = false;
                    if let Some(c) = self.private.conn {
                        out.reconnect(c);
                    }
                }
            }
            Err(e) => self.key_failed(e, now),
        }
    }

    fn keepalive_period(&self) -> u64 {
        self.setup.listen_key_keepalive.as_nanos() as u64
    }

    /// Delay before retrying a keep-alive that failed with the key still valid.
    fn keepalive_retry(&mut self) -> u64 {
        let b = (KEEPALIVE_RETRY_MIN_NS << self.private.keepalive_fail_streak.min(8))
            .min(KEEPALIVE_RETRY_MAX_NS)
            .min((self.keepalive_period() / 8).max(1));
        self.private.keepalive_fail_streak = self.private.keepalive_fail_streak.saturating_add(1);
        b
    }

    pub(super) fn on_keepalive(&mut self, reply: HttpReply, now: u64) {
        self.private.keepalive_in_flight = false;
        let key = self.private.key.as_deref().unwrap_or("");
        let r = match reply.result {
            Ok((status, body)) => mx::parse_listen_key_response(status, &body)
                .map(|_| ())
                .map_err(|e| {
                    let code = match &e {
                        mx::MexcRestError::Api {
                            code, http_status, ..
                        } => code.unwrap_or(*http_status as i64),
                        _ => status as i64,
                    };
                    (e.api_error(), code, e.to_string())
                }),
            Err(e) => Err((None, -1, e.to_string())),
        };
        match r {
            Ok(()) => {
                self.private.keepalive_fail_streak = 0;
                self.private.next_keepalive_ns = now + self.keepalive_period();
            }
            Err((Some(mx::MexcApiError::ListenKeyInvalid), code, text)) => {
                // The key is gone (expired or closed): a new one, then reconnect.
                let rec = self.core.error(FeedErrorKind::ListenKeyKeepAliveRefused);
                // The venue's message may echo the key: redacted.
                let e = rec.code(code).detail_redacted(&text, key);
                self.private.key = None;
                self.private.rekey = self.private.conn.is_some();
                self.key_failed(e, now);
                self.private.next_key_at_ns = now;
            }
            Err((kind, code, text)) => {
                // Transport, 429, 5xx, a clock refusal …: the key is still valid for up to an
                // hour after the last success; keep it and try again soon.
                if kind == Some(mx::MexcApiError::TimestampOutsideRecvWindow) {
                    self.private.clock.resync();
                }
                let rec = self.core.error(FeedErrorKind::ListenKeyKeepAliveRetry);
                let e = rec.code(code).detail_redacted(&text, key);
                self.core.log_error(e);
                self.private.next_keepalive_ns = now + self.keepalive_retry();
            }
        }
    }

    pub(super) fn on_server_time(&mut self, reply: HttpReply, now: u64) {
        let server = match &reply.result {
            Ok((status, body)) => parse_server_time(*status, body),
            Err(_) => None,
        };
        if !self.private.clock.on_reply(server, now) {
            let rec = self.core.error(FeedErrorKind::ClockSync);
            let e = match &reply.result {
                Ok((status, _)) => rec
                    .code(*status as i64)
                    .detail("no server time in the answer"),
                Err(e) => rec.detail_of(e),
            };
            self.core.log_error(e);
        }
    }

    pub(super) fn drive_private(&mut self, out: &mut Outbox<'_>, now: u64) {
        let Some(creds) = self.creds.as_ref() else {
            return;
        };
        if !self.private_bound() {
            return;
        }
        // The venue's clock first (signed timestamps must be within its recvWindow), then
        // again every 10 min and after a clock refusal.
        if self.private.clock.due(now) {
            let req = HttpRequest {
                id: LK_TIME,
                method: HttpMethod::Get,
                url: format!(
                    "{}{}",
                    self.setup.rest_url.trim_end_matches('/'),
                    MEXC_TIME_PATH
                ),
                headers: Vec::new(),
                body: Vec::new(),
            };
            if self.control.submit(req).is_ok() {
                self.private.clock.sent();
            }
        }
        if !self.private.clock.measured() || self.private.clock.in_flight() {
            return;
        }
        let ts = self.private.clock.now_ms();
        if self.private.key.is_none() {
            if !self.private.key_in_flight && now >= self.private.next_key_at_ns {
                let req = mx::create_listen_key_request(creds, ts, None);
                if self.submit(LK_CREATE, &req).is_ok() {
                    self.private.key_in_flight = true;
                }
            }
            return;
        }
        if self.private.conn.is_none() {
            if let Some(spec) = self.private.spec {
                if let Some(c) = out.open(spec) {
                    self.private.conn = Some(c);
                    if let Some(r) = self.roles.get_mut(c.0 as usize) {
                        *r = Role::Private;
                    }
                }
            }
        }
        if !self.private.keepalive_in_flight && now >= self.private.next_keepalive_ns {
            if let Some(key) = &self.private.key {
                let req = mx::keepalive_listen_key_request(creds, key, ts, None);
                if self.submit(LK_KEEPALIVE, &req).is_ok() {
                    self.private.keepalive_in_flight = true;
                }
            }
        }
    }

    /// The private connection is up: a `PrivateGap` if it was down, then the bound channels.
    pub(super) fn on_private_open(&mut self, out: &mut Outbox<'_>, conn: ConnId, now: u64) {
        if self.private.opened_once {
            Counters::add(&self.core.counters().reconnects, 1);
        }
        self.private.opened_once = true;
        self.private.fail_streak = 0;
        if let Some(from) = self.private.down_since_ns.take() {
            // Orders and fills may have been missed while the private stream was down.
            self.core.private_gap(from, now);
        }
        self.core.broadcast_status(StatusKind::ConnUp, now, 0, true);
        for kind in [Kind::Orders, Kind::Fills, Kind::Balances] {
            if self.core.private_routes[public_index(kind)] != 0 {
                self.request(out, conn, kind, None, true, now);
            }
        }
    }

    pub(super) fn on_private_down(&mut self, conn: ConnId, reason: DownReason, now_ns: u64) {
        if self.private.down_since_ns.is_none() {
            self.private.down_since_ns = Some(now_ns);
            self.core
                .broadcast_status(StatusKind::ConnDown, now_ns, 0, true);
        }
        if let DownReason::HandshakeRejected { status } = reason {
            // The listen key was refused (expired or closed): stop this slot, get a new
            // key, reopen with it. No reconnect loop on a dead key.
            Counters::add(&self.core.shared.stats.auth_failures, 1);
            let e = self.core.error(FeedErrorKind::ListenKeyRejectedByStream);
            self.core.log_error(e.code(status as i64));
            self.set_role(conn, Role::Retiring);
            self.to_close.push(conn);
            self.private.conn = None;
            self.private.key = None;
            // First refusal (a key that expired): renew at once; repeated: back off.
            let first = self.private.fail_streak == 0;
            let b = self.key_backoff();
            self.private.next_key_at_ns = if first { now_ns } else { now_ns + b };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_key_request_is_signed_with_the_crate_credentials() {
        let c = crate::secret::Credentials::new("key", "secret");
        let req = mx::create_listen_key_request(&c, 1_644_489_390_087, None);
        assert!(req
            .path_and_query
            .starts_with("/api/v3/userDataStream?timestamp=1644489390087&signature="));
        assert_eq!(req.headers[0], (mx::API_KEY_HEADER, "key".to_string()));
    }

    /// Issue 12, defect 5 (listen key): the key is percent-encoded into the stream URL.
    #[test]
    fn issue12_defect5_listen_key_is_percent_encoded_in_the_stream_url() {
        let url = private_url("wss://wbs-api.mexc.com/ws", "a+b/c=d&e#f g%");
        assert_eq!(
            url,
            "wss://wbs-api.mexc.com/ws?listenKey=a%2Bb%2Fc%3Dd%26e%23f%20g%25"
        );
        assert_eq!(
            private_url("ws://h/ws?x=1", "k"),
            "ws://h/ws?x=1&listenKey=k"
        );
    }
}
