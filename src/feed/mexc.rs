//! MEXC spot feed: public shards (≤ 30 subscriptions each) and the private listen-key stream.
//!
//! # Public
//! Every bound (kind, symbol) is one channel (`aggre.depth` / `aggre.deals` /
//! `aggre.bookTicker` at `setup.interval`, `miniTicker@UTC+8` for tickers), placed on the first
//! shard with fewer than [`MAX_SUBSCRIPTIONS_PER_CONNECTION`] channels; a new shard connection
//! is opened from the shared public spec when all are full. One `SUBSCRIPTION` per channel
//! (request id encodes kind + symbol), every outbound frame paced per connection by an
//! [`OutboundLimiter`] (90/s, below the venue's 100/s): what cannot go now is queued and sent
//! from `on_tick`. Acks are checked with a per-connection [`SubscriptionTracker`] (channel-set
//! equality, 10 s timeout); a refusal, error or timeout becomes an `Error` event for the
//! consumers of exactly that channel.
//!
//! Books: aggre depth + REST `GET /api/v3/depth` (fetched on the control thread when the sync
//! asks), bridged by [`crate::book::SyncedBook`] (`SyncRule::Mexc`).
//!
//! # Rotation (make-before-break)
//! When a shard's connection is `setup.rotate_after` old, a replacement connection is opened
//! and subscribed to the shard's channels while the old one keeps feeding. Book pushes from the
//! replacement go into the same synced books (duplicates are dropped by sequence), except those
//! that would open a gap while the old stream is still live (the replacement's first, partial
//! window). Trades from both connections pass through a per-symbol de-duplication ring (hash of
//! trade id and time) while they overlap, so none is lost or repeated at the handover; book
//! tickers and tickers from the replacement are dropped until handover (the old connection
//! still delivers them). Handover = every channel acked on the replacement and every book
//! symbol of the shard has had a contiguous push from it (or [`ROTATE_MAX_WAIT_NS`] passed):
//! the old connection is closed by us, books stay `Live` throughout. If the old connection dies
//! first, the replacement is promoted at once (no reset: the sync itself detects any gap).
//!
//! # Private
//! With credentials and a bound private kind: `POST /api/v3/userDataStream` (signed) on the
//! control thread → listen key → private spec URL `?listenKey=KEY` → open → subscribe the bound
//! private channels. `PUT` keep-alive every `setup.listen_key_keepalive`. A refused key (REST
//! error on keep-alive, or the WebSocket upgrade refused) → new key and reconnect. REST failures
//! are counted in `auth_failures`, routed as `Error` events to the private consumers, and
//! retried with exponential backoff (2 s … 60 s). A private reconnect sends `PrivateGap`.
//! The key is `DELETE`d (best effort, bounded wait) in [`MexcFeed::into_core`].

use super::{decode_id, encode_id, public_index, Command, CommandQueue, FeedCore, FeedSetup};
use crate::book::SyncRequest;
use crate::channel::Kind;
use crate::event::{
    BalanceMsg, BboMsg, BookMsg, ControlKind, ControlMsg, FillMsg, OrderMsg, PositionMsg, Sink,
    TickerMsg, TradeMsg,
};
use crate::exchange::mexc::{
    self as mx, AckOutcome, Interval, MexcDecoder, OutboundLimiter, SubscriptionTracker,
    MAX_SUBSCRIPTIONS_PER_CONNECTION,
};
use crate::metrics::Counters;
use crate::net::{
    ConnId, ConnSpec, ControlClient, DownReason, Handler, HttpMethod, HttpReply, HttpRequest,
    NetError, Outbox, Reactor, SpecId, WsMessage,
};
use crate::ring::StatusKind;
use crate::types::{now_ns, wall_ms, BookState};
use std::collections::VecDeque;
use std::time::Duration;

/// REST ids of the listen-key calls (snapshot ids are symbol indices).
const LK_CREATE: u64 = 1 << 40;
const LK_KEEPALIVE: u64 = (1 << 40) + 1;
const LK_CLOSE: u64 = (1 << 40) + 2;
/// Outbound frames per second per connection, hard cap over any rolling second (venue limit
/// 100, counted by the server in its own windows on arrival).
const OUTBOUND_PER_SEC: u32 = 90;
/// Smoothing on top of the cap: a burst of at most this many, then [`SMOOTH_PER_SEC`]. A
/// queue drained at the cap's boundary would otherwise land two full bursts in one server
/// window when arrival jitter shifts them.
const SMOOTH_BURST: u64 = 10;
const SMOOTH_PER_SEC: u64 = 60;
/// A subscription not acknowledged within this is reported as failed.
const ACK_TIMEOUT_NS: u64 = 10_000_000_000;
/// Longest make-before-break overlap before the old connection is closed anyway.
pub const ROTATE_MAX_WAIT_NS: u64 = 5_000_000_000;
/// Trade de-duplication continues this long after a rotation handover.
const DEDUPE_GRACE_NS: u64 = 2_000_000_000;
/// Listen-key creation backoff after a failure: 2 s doubling up to 60 s.
const KEY_BACKOFF_MIN_NS: u64 = 2_000_000_000;
const KEY_BACKOFF_MAX_NS: u64 = 60_000_000_000;
/// Slots tracked per connection id (the reactor's `max_conns` is smaller).
const MAX_CONN_SLOTS: usize = 64;
/// Mini ticker time zone suffix.
const TICKER_TZ: &str = "UTC+8";

fn http_method(m: mx::HttpMethod) -> HttpMethod {
    match m {
        mx::HttpMethod::Get => HttpMethod::Get,
        mx::HttpMethod::Post => HttpMethod::Post,
        mx::HttpMethod::Put => HttpMethod::Put,
        mx::HttpMethod::Delete => HttpMethod::Delete,
    }
}

/// What a connection id currently is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    None,
    /// The serving connection of shard `i`.
    Shard(usize),
    /// Make-before-break replacement for shard `i`, warming up.
    Replacement(usize),
    /// No longer wanted but down and waiting for the reactor's reconnect: closed from the
    /// next `on_tick` (its `on_down`s are ignored).
    Retiring,
    /// `Outbox::close` was called: the reactor frees the slot at its next `on_down`.
    Closing,
    Private,
}

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
struct ConnOut {
    limiter: OutboundLimiter,
    bucket: Bucket,
    queue: VecDeque<String>,
    tracker: SubscriptionTracker,
    /// Last PONG (or the open): a venue that stops answering PING while data still flows is
    /// replaced after `PONG_TIMEOUT_PINGS` ping periods.
    last_pong_ns: u64,
}

/// Ping periods without a PONG before a connection is replaced.
const PONG_TIMEOUT_PINGS: u64 = 3;

impl ConnOut {
    fn new() -> Self {
        ConnOut {
            limiter: OutboundLimiter::new(OUTBOUND_PER_SEC),
            bucket: Bucket::new(),
            queue: VecDeque::new(),
            tracker: SubscriptionTracker::new(),
            last_pong_ns: 0,
        }
    }

    /// Take a send slot at `now_ns` if both the cap and the smoothing allow one.
    fn try_send(&mut self, now_ns: u64) -> bool {
        if self.bucket.has(now_ns) && self.limiter.try_send(now_ns) {
            self.bucket.take();
            true
        } else {
            false
        }
    }
}

struct Shard {
    conn: Option<ConnId>,
    /// (kind, symbol index) carried by this shard.
    channels: Vec<(Kind, usize)>,
    opened_once: bool,
    down_since_ns: Option<u64>,
    replacement: Option<ConnId>,
    rotate_started_ns: u64,
    /// After a handover, trades of the promoted connection are still de-duplicated until then
    /// (its trade pushes may lag the closed connection's).
    dedupe_until_ns: u64,
}

struct PrivateState {
    spec: Option<SpecId>,
    conn: Option<ConnId>,
    key: Option<String>,
    key_in_flight: bool,
    next_key_at_ns: u64,
    fail_streak: u32,
    last_keepalive_ns: u64,
    keepalive_in_flight: bool,
    opened_once: bool,
    down_since_ns: Option<u64>,
    /// The connection must move to a new key once it arrives.
    rekey: bool,
}

/// The MEXC spot feed handler, run by a [`crate::net::Reactor`] on the feed thread.
pub struct MexcFeed {
    core: FeedCore,
    decoder: MexcDecoder,
    control: ControlClient,
    commands: CommandQueue,
    setup: FeedSetup,
    creds: Option<mx::Credentials>,
    public_spec: Option<SpecId>,
    shards: Vec<Shard>,
    /// Per symbol, per public kind: the shard carrying it.
    shard_of: Vec<[Option<usize>; 4]>,
    /// Per symbol, per public kind: the channel name.
    names: Vec<[String; 4]>,
    roles: Vec<Role>,
    outs: Vec<ConnOut>,
    /// Per symbol: the replacement being warmed has delivered a contiguous book push.
    aligned: Vec<bool>,
    /// Per symbol: keys of trades delivered while a rotation overlaps two connections.
    recent_trades: Vec<TradeRing>,
    private: PrivateState,
    rest_in_flight: Vec<bool>,
    /// Connections to close from the next `on_tick` (retired while down).
    to_close: Vec<ConnId>,
    buf: Vec<u8>,
    last_ping_ns: u64,
    last_idle_ns: u64,
    /// Messages dropped during rotation overlaps (unaligned book pushes and book tickers of
    /// the replacement, trades already delivered by the other connection).
    pub warmup_dropped: u64,
}

impl MexcFeed {
    pub(crate) fn new(
        core: FeedCore,
        control: ControlClient,
        commands: CommandQueue,
        setup: FeedSetup,
    ) -> Self {
        let n = core.syms.len();
        let interval = if setup.interval == "100ms" {
            Interval::Ms100
        } else {
            Interval::Ms10
        };
        let names = core
            .syms
            .iter()
            .map(|s| {
                let sym = s.name.as_str();
                [
                    mx::Channel::AggreDepth {
                        symbol: sym,
                        interval,
                    }
                    .to_string(),
                    mx::Channel::AggreDeals {
                        symbol: sym,
                        interval,
                    }
                    .to_string(),
                    mx::Channel::AggreBookTicker {
                        symbol: sym,
                        interval,
                    }
                    .to_string(),
                    format!("spot@public.miniTicker.v3.api.pb@{sym}@{TICKER_TZ}"),
                ]
            })
            .collect();
        MexcFeed {
            decoder: MexcDecoder::new(setup.book_levels.max(5000)),
            creds: setup.credentials.clone(),
            core,
            control,
            commands,
            public_spec: None,
            shards: Vec::new(),
            shard_of: vec![[None; 4]; n],
            names,
            roles: vec![Role::None; MAX_CONN_SLOTS],
            outs: (0..MAX_CONN_SLOTS).map(|_| ConnOut::new()).collect(),
            aligned: vec![false; n],
            recent_trades: (0..n).map(|_| TradeRing::default()).collect(),
            private: PrivateState {
                spec: None,
                conn: None,
                key: None,
                key_in_flight: false,
                next_key_at_ns: 0,
                fail_streak: 0,
                last_keepalive_ns: 0,
                keepalive_in_flight: false,
                opened_once: false,
                down_since_ns: None,
                rekey: false,
            },
            rest_in_flight: vec![false; n],
            to_close: Vec::new(),
            buf: Vec::with_capacity(256),
            last_ping_ns: 0,
            last_idle_ns: 0,
            warmup_dropped: 0,
            setup,
        }
    }

    /// Register the connection specs with the reactor. Nothing is opened here: shards open on
    /// the first bind, the private connection once a listen key exists.
    pub(crate) fn install(
        r: &mut Reactor<MexcFeed>,
        public: ConnSpec,
        mut private: ConnSpec,
    ) -> Result<(), NetError> {
        let ps = r.add_spec(public)?;
        let h = r.handler_mut();
        h.public_spec = Some(ps);
        if h.creds.is_some() {
            // Private streams are often silent for long: our PINGs (and the PONGs) keep the
            // connection alive, so the idle limit must exceed the ping period.
            let ping = h.setup.ping_interval;
            private.idle_timeout = private.idle_timeout.map(|d| d.max(ping * 3));
            let vs = r.add_spec(private)?;
            r.handler_mut().private.spec = Some(vs);
        }
        Ok(())
    }

    /// The core, after closing the listen key (best effort, waits at most 1 s).
    pub(crate) fn into_core(mut self) -> FeedCore {
        if let (Some(key), Some(creds)) = (self.private.key.take(), self.creds.as_ref()) {
            let req = mx::close_listen_key_request(creds, &key, wall_ms(), None);
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
        self.core
    }

    /// Shards currently configured (for tests and reports).
    pub fn shard_count(&self) -> usize {
        self.shards.len()
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

    fn role(&self, conn: ConnId) -> Role {
        self.roles
            .get(conn.0 as usize)
            .copied()
            .unwrap_or(Role::None)
    }

    fn set_role(&mut self, conn: ConnId, role: Role) {
        if let Some(r) = self.roles.get_mut(conn.0 as usize) {
            *r = role;
        }
    }

    fn channel_name(&self, kind: Kind, si: Option<usize>) -> &str {
        match (kind, si) {
            (Kind::Orders, _) => mx::PRIVATE_ORDERS,
            (Kind::Fills, _) => mx::PRIVATE_DEALS,
            (Kind::Balances, _) => mx::PRIVATE_ACCOUNT,
            (Kind::Positions, _) => "",
            (k, Some(si)) => &self.names[si][public_index(k)],
            (_, None) => "",
        }
    }

    /// (kind, symbol) of a channel name, for answers that do not echo our request id.
    fn target_of(&self, ch: &str) -> Option<(Kind, Option<usize>)> {
        for kind in [Kind::Orders, Kind::Fills, Kind::Balances] {
            if self.channel_name(kind, None) == ch {
                return Some((kind, None));
            }
        }
        for (si, n) in self.names.iter().enumerate() {
            if let Some(k) = n.iter().position(|x| x == ch) {
                return Some((Kind::PUBLIC[k], Some(si)));
            }
        }
        None
    }

    /// Send `text` on `conn` now if the limiter allows and nothing is queued, else queue it.
    fn send(&mut self, out: &mut Outbox<'_>, conn: ConnId, text: &str, now: u64) {
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

    fn drain_queues(&mut self, out: &mut Outbox<'_>, now: u64) {
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
    fn request(
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

    /// Place a public channel on a shard (opening a new shard connection if all are full) and
    /// subscribe it when that connection is live.
    fn add_public(&mut self, out: &mut Outbox<'_>, kind: Kind, si: usize, now: u64) {
        let k = public_index(kind);
        if self.shard_of[si][k].is_some() {
            return;
        }
        let idx = match self
            .shards
            .iter()
            .position(|s| s.channels.len() < MAX_SUBSCRIPTIONS_PER_CONNECTION)
        {
            Some(i) => i,
            None => {
                self.shards.push(Shard {
                    conn: None,
                    channels: Vec::new(),
                    opened_once: false,
                    down_since_ns: None,
                    replacement: None,
                    rotate_started_ns: 0,
                    dedupe_until_ns: 0,
                });
                self.shards.len() - 1
            }
        };
        self.shards[idx].channels.push((kind, si));
        self.shard_of[si][k] = Some(idx);
        self.core.syms[si].subscribed[k] = true;
        match self.shards[idx].conn {
            None => self.open_shard(out, idx),
            Some(c) => {
                self.request(out, c, kind, Some(si), true, now);
                if let Some(r) = self.shards[idx].replacement {
                    self.request(out, r, kind, Some(si), true, now);
                }
            }
        }
    }

    fn open_shard(&mut self, out: &mut Outbox<'_>, idx: usize) {
        let Some(spec) = self.public_spec else {
            return;
        };
        match out.open(spec) {
            Some(c) => {
                self.shards[idx].conn = Some(c);
                self.set_role(c, Role::Shard(idx));
            }
            None => {
                let msg = "no free connection slot for another MEXC shard (raise max_conns)";
                self.core.shared.push_error(msg.into());
                let chans = self.shards[idx].channels.clone();
                for (kind, si) in chans {
                    self.core.route_error(kind, Some(si), -1, "", msg);
                }
            }
        }
    }

    fn remove_public(&mut self, out: &mut Outbox<'_>, kind: Kind, si: usize, now: u64) {
        let k = public_index(kind);
        let Some(idx) = self.shard_of[si][k].take() else {
            return;
        };
        self.core.syms[si].subscribed[k] = false;
        self.shards[idx]
            .channels
            .retain(|&(kk, s)| !(kk == kind && s == si));
        for c in [self.shards[idx].conn, self.shards[idx].replacement]
            .into_iter()
            .flatten()
        {
            self.request(out, c, kind, Some(si), false, now);
        }
        if kind == Kind::OrderBook {
            self.core.syms[si].book.reset(now);
            self.core.publish_state(si, now);
            self.rest_in_flight[si] = false;
        }
        if self.shards[idx].channels.is_empty() {
            // No subscription left: the venue would close it after 30 s anyway.
            for c in [
                self.shards[idx].conn.take(),
                self.shards[idx].replacement.take(),
            ]
            .into_iter()
            .flatten()
            {
                self.set_role(c, Role::Closing);
                out.close(c);
            }
            self.shards[idx].opened_once = false;
            self.shards[idx].down_since_ns = None;
        }
    }

    fn private_bound(&self) -> bool {
        self.core.private_routes.iter().any(|&m| m != 0)
    }

    fn handle_commands(&mut self, out: &mut Outbox<'_>, now: u64) {
        while let Some(cmd) = self.commands.pop() {
            match cmd {
                Command::AddConsumer { consumer, producer } => {
                    self.core.add_consumer(consumer, producer)
                }
                Command::Bind {
                    kind,
                    symbol,
                    consumer,
                }
                | Command::Unbind {
                    kind,
                    symbol,
                    consumer,
                } => {
                    let bind = matches!(cmd, Command::Bind { .. });
                    let Some((si, on)) = self.core.apply_binding(kind, symbol, consumer, bind)
                    else {
                        continue;
                    };
                    if kind == Kind::Positions {
                        if on {
                            self.core.route_error(
                                kind,
                                None,
                                -1,
                                "",
                                "MEXC spot has no positions channel",
                            );
                        }
                        continue;
                    }
                    if kind.is_private() {
                        if self.creds.is_none() {
                            continue;
                        }
                        if let Some(c) = self.private.conn.filter(|&c| out.is_live(c)) {
                            self.request(out, c, kind, None, on, now);
                        }
                        // Otherwise the subscription goes out when the connection opens.
                        continue;
                    }
                    let Some(si) = si else { continue };
                    if on {
                        self.add_public(out, kind, si, now);
                    } else {
                        self.remove_public(out, kind, si, now);
                    }
                }
            }
        }
    }

    /// Act on sync requests raised while decoding: REST snapshots.
    fn handle_requests(&mut self) {
        let mut i = 0;
        while i < self.core.requests.len() {
            let (si, req) = self.core.requests[i];
            i += 1;
            if req != SyncRequest::Snapshot {
                // MEXC books always bridge with REST; a resubscribe is never asked for.
                self.core.syms[si].book.on_request_failed(now_ns());
                continue;
            }
            if self.rest_in_flight[si] {
                continue;
            }
            let limit = self.setup.depth.clamp(1, mx::DEPTH_SNAPSHOT_MAX_LIMIT);
            let Ok(path) = mx::depth_snapshot_path(&self.core.syms[si].name, limit) else {
                self.core.syms[si].book.on_request_failed(now_ns());
                continue;
            };
            let req = HttpRequest {
                id: si as u64,
                method: HttpMethod::Get,
                url: format!("{}{}", self.setup.rest_url.trim_end_matches('/'), path),
                headers: Vec::new(),
                body: Vec::new(),
            };
            if self.control.submit(req).is_ok() {
                self.rest_in_flight[si] = true;
            } else {
                self.core.syms[si].book.on_request_failed(now_ns());
            }
        }
        self.core.requests.clear();
    }

    fn handle_replies(&mut self, out: &mut Outbox<'_>, now: u64) {
        while let Some(reply) = self.control.try_reply() {
            match reply.id {
                LK_CREATE => self.on_key_created(out, reply, now),
                LK_KEEPALIVE => self.on_keepalive(reply, now),
                LK_CLOSE => {}
                id if (id as usize) < self.core.syms.len() => self.on_snapshot(reply, now),
                _ => {}
            }
        }
    }

    fn on_snapshot(&mut self, reply: HttpReply, now: u64) {
        let si = reply.id as usize;
        self.rest_in_flight[si] = false;
        let parsed = match reply.result {
            Ok((status, body)) => {
                mx::parse_depth_snapshot(status, &body).map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        match parsed {
            Ok(snap) => {
                let name = self.core.syms[si].name.clone();
                self.core.rest_mode = true;
                self.core.recv_ns = now;
                self.core.book(&snap.book_msg(&name));
                self.core.rest_mode = false;
            }
            Err(e) => {
                self.core.shared.push_error(format!(
                    "REST snapshot for {} failed: {e}",
                    self.core.syms[si].name
                ));
                self.core.syms[si].book.on_snapshot_failed(now);
            }
        }
        self.core.publish_state(si, now);
        if !self.core.requests.is_empty() {
            self.handle_requests();
        }
    }

    /// Route a private-stream error to every private consumer (once per consumer where the
    /// routing allows it).
    fn private_error(&mut self, code: i64, msg: &str) {
        let mut notified = 0u64;
        for kind in [Kind::Orders, Kind::Fills, Kind::Balances] {
            let m = self.core.private_routes[public_index(kind)];
            if m & !notified != 0 {
                self.core
                    .route_error(kind, None, code, "userDataStream", msg);
                notified |= m;
            }
        }
        self.core.shared.push_error(msg.to_string());
    }

    /// Delay before the next listen-key attempt after `streak` consecutive failures.
    fn key_backoff(&mut self) -> u64 {
        let b = (KEY_BACKOFF_MIN_NS << self.private.fail_streak.min(8)).min(KEY_BACKOFF_MAX_NS);
        self.private.fail_streak = self.private.fail_streak.saturating_add(1);
        b
    }

    fn key_failed(&mut self, code: i64, msg: &str, now: u64) {
        Counters::add(&self.core.shared.stats.auth_failures, 1);
        self.private.next_key_at_ns = now + self.key_backoff();
        self.private_error(code, msg);
    }

    fn on_key_created(&mut self, out: &mut Outbox<'_>, reply: HttpReply, now: u64) {
        self.private.key_in_flight = false;
        let r = match reply.result {
            Ok((status, body)) => mx::parse_listen_key_response(status, &body).map_err(|e| {
                let code = match &e {
                    mx::MexcRestError::Api {
                        code, http_status, ..
                    } => code.unwrap_or(*http_status as i64),
                    _ => status as i64,
                };
                (code, format!("MEXC listen key refused: {e}"))
            }),
            Err(e) => Err((-1, format!("MEXC listen key request failed: {e}"))),
        };
        match r {
            Ok(key) => {
                self.private.last_keepalive_ns = now;
                let url = format!("{}?listenKey={key}", self.setup.private_ws_url);
                self.private.key = Some(key);
                if let Some(spec) = self.private.spec {
                    if let Err(e) = out.set_spec_url(spec, &url) {
                        self.core
                            .shared
                            .push_error(format!("MEXC private url: {e}"));
                    }
                }
                if self.private.rekey {
                    self.private.rekey = false;
                    if let Some(c) = self.private.conn {
                        out.reconnect(c);
                    }
                }
            }
            Err((code, msg)) => self.key_failed(code, &msg, now),
        }
    }

    fn on_keepalive(&mut self, reply: HttpReply, now: u64) {
        self.private.keepalive_in_flight = false;
        let r = match reply.result {
            Ok((status, body)) => mx::parse_listen_key_response(status, &body)
                .map(|_| ())
                .map_err(|e| Some(e.to_string())),
            // Transport failure: keep the key, try again next period.
            Err(_) => Err(None),
        };
        match r {
            Ok(()) => self.private.last_keepalive_ns = now,
            Err(None) => {}
            Err(Some(e)) => {
                // The key is gone (expired or closed): a new one, then reconnect.
                self.private.key = None;
                self.private.rekey = self.private.conn.is_some();
                self.key_failed(-1, &format!("MEXC listen key keep-alive refused: {e}"), now);
                self.private.next_key_at_ns = now;
            }
        }
    }

    fn drive_private(&mut self, out: &mut Outbox<'_>, now: u64) {
        let Some(creds) = self.creds.as_ref() else {
            return;
        };
        if !self.private_bound() {
            return;
        }
        if self.private.key.is_none() {
            if !self.private.key_in_flight && now >= self.private.next_key_at_ns {
                let req = mx::create_listen_key_request(creds, wall_ms(), None);
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
        let period = self.setup.listen_key_keepalive.as_nanos() as u64;
        if !self.private.keepalive_in_flight
            && now.saturating_sub(self.private.last_keepalive_ns) >= period
        {
            if let Some(key) = &self.private.key {
                let req = mx::keepalive_listen_key_request(creds, key, wall_ms(), None);
                if self.submit(LK_KEEPALIVE, &req).is_ok() {
                    self.private.keepalive_in_flight = true;
                    self.private.last_keepalive_ns = now;
                }
            }
        }
    }

    /// Act on control frames seen while decoding a frame from `conn`.
    fn handle_notes(&mut self, conn: ConnId) {
        let idx = conn.0 as usize;
        for i in 0..self.core.notes.len() {
            let n = self.core.notes[i];
            if n.kind == ControlKind::Pong {
                if let Some(o) = self.outs.get_mut(idx) {
                    o.last_pong_ns = self.core.recv_ns;
                }
                continue;
            }
            let m = ControlMsg {
                kind: n.kind,
                channel: Some(n.channel.as_str()).filter(|s| !s.is_empty()),
                event: None,
                message: Some(n.message.as_str()).filter(|s| !s.is_empty()),
                req_id: n.req_id,
                code: Some(n.code),
                payload0: None,
            };
            let outcome = match self.outs.get_mut(idx) {
                Some(o) => o.tracker.on_control(&m),
                None => AckOutcome::Unmatched,
            };
            let (target, ch) = match outcome {
                AckOutcome::Confirmed(_) => continue,
                AckOutcome::Rejected(p) => (
                    decode_id(p.id),
                    p.channels.first().cloned().unwrap_or_default(),
                ),
                AckOutcome::Unmatched => {
                    if n.kind == ControlKind::Ack {
                        continue;
                    }
                    let ch = n.channel.as_str().to_string();
                    (
                        n.req_id.and_then(decode_id).or_else(|| self.target_of(&ch)),
                        ch,
                    )
                }
            };
            let msg = if n.message.as_str().is_empty() {
                "subscription refused"
            } else {
                n.message.as_str()
            };
            let msg = msg.to_string();
            match target {
                Some((kind, si)) => self.core.route_error(kind, si, n.code, &ch, &msg),
                None => Counters::add(&self.core.shared.stats.channel_errors, 1),
            }
            self.core
                .shared
                .push_error(format!("MEXC {ch}: code {} {msg}", n.code));
        }
        self.core.notes.clear();
    }

    fn check_ack_timeouts(&mut self, now: u64) {
        for i in 0..self.outs.len() {
            while let Some(p) = self.outs[i].tracker.poll_timeout(now, ACK_TIMEOUT_NS) {
                let ch = p.channels.first().cloned().unwrap_or_default();
                let msg = "subscription not acknowledged within 10 s";
                if let Some((kind, si)) = decode_id(p.id) {
                    self.core.route_error(kind, si, -1, &ch, msg);
                }
                self.core.shared.push_error(format!("MEXC {ch}: {msg}"));
            }
        }
    }

    fn subscribe_shard(&mut self, out: &mut Outbox<'_>, idx: usize, conn: ConnId, now: u64) {
        let chans = self.shards[idx].channels.clone();
        for (kind, si) in chans {
            self.request(out, conn, kind, Some(si), true, now);
        }
    }

    /// Start rotations that are due; finish those whose replacement is ready.
    fn drive_rotation(&mut self, out: &mut Outbox<'_>, now: u64) {
        let after = self.setup.rotate_after.as_nanos() as u64;
        for idx in 0..self.shards.len() {
            let Some(conn) = self.shards[idx].conn else {
                continue;
            };
            match self.shards[idx].replacement {
                None => {
                    let Some(since) = out.live_since_ns(conn) else {
                        continue;
                    };
                    if now.saturating_sub(since) < after {
                        continue;
                    }
                    let Some(spec) = self.public_spec else {
                        continue;
                    };
                    if let Some(r) = out.open(spec) {
                        self.shards[idx].replacement = Some(r);
                        self.shards[idx].rotate_started_ns = now;
                        self.set_role(r, Role::Replacement(idx));
                        for &(k, si) in &self.shards[idx].channels {
                            match k {
                                Kind::OrderBook => self.aligned[si] = false,
                                Kind::Trades => self.recent_trades[si].clear(),
                                _ => {}
                            }
                        }
                    }
                }
                Some(r) => {
                    if !out.is_live(r) {
                        if now.saturating_sub(self.shards[idx].rotate_started_ns)
                            > 4 * ROTATE_MAX_WAIT_NS
                        {
                            // Replacement cannot connect: give up, try again later.
                            self.set_role(r, Role::Closing);
                            out.close(r);
                            self.shards[idx].replacement = None;
                        }
                        continue;
                    }
                    let acked = self.outs[r.0 as usize].tracker.pending().is_empty()
                        && self.outs[r.0 as usize].queue.is_empty();
                    let books_ready = self.shards[idx].channels.iter().all(|&(k, si)| {
                        k != Kind::OrderBook
                            || self.aligned[si]
                            || self.core.syms[si].book.state() == BookState::Resyncing
                    });
                    let waited = now.saturating_sub(self.shards[idx].rotate_started_ns);
                    if (acked && books_ready) || waited > ROTATE_MAX_WAIT_NS {
                        self.set_role(conn, Role::Closing);
                        out.close(conn);
                        self.promote(idx, r);
                    }
                }
            }
        }
    }

    fn promote(&mut self, idx: usize, r: ConnId) {
        self.shards[idx].dedupe_until_ns = now_ns() + DEDUPE_GRACE_NS;
        self.shards[idx].conn = Some(r);
        self.shards[idx].replacement = None;
        self.set_role(r, Role::Shard(idx));
    }

    /// Replace connections whose venue stopped answering PING while the socket stays open
    /// (data may still flow, so the idle timer would never fire).
    fn check_pongs(&mut self, out: &mut Outbox<'_>, now: u64) {
        let timeout = PONG_TIMEOUT_PINGS * self.setup.ping_interval.as_nanos() as u64;
        for i in 0..self.roles.len().min(self.outs.len()) {
            if !matches!(
                self.roles[i],
                Role::Shard(_) | Role::Replacement(_) | Role::Private
            ) {
                continue;
            }
            let c = ConnId(i as u16);
            let o = &mut self.outs[i];
            if out.is_live(c) && o.last_pong_ns != 0 && now.saturating_sub(o.last_pong_ns) > timeout
            {
                o.last_pong_ns = now;
                Counters::add(&self.core.shared.stats.pong_timeouts, 1);
                out.reconnect(c);
            }
        }
    }

    fn ping_all(&mut self, out: &mut Outbox<'_>, now: u64) {
        for i in 0..self.roles.len() {
            if matches!(
                self.roles[i],
                Role::Shard(_) | Role::Replacement(_) | Role::Private
            ) {
                let c = ConnId(i as u16);
                if out.is_live(c) {
                    self.send(out, c, mx::PING_REQUEST, now);
                }
            }
        }
    }
}

/// Keys of the last trades delivered for one symbol (rotation overlap only).
struct TradeRing {
    keys: [u64; 128],
    next: usize,
}

impl Default for TradeRing {
    fn default() -> Self {
        TradeRing {
            keys: [0; 128],
            next: 0,
        }
    }
}

impl TradeRing {
    /// `true` if `key` is new (and records it).
    fn insert(&mut self, key: u64) -> bool {
        if self.keys.contains(&key) {
            return false;
        }
        self.keys[self.next] = key;
        self.next = (self.next + 1) % self.keys.len();
        true
    }

    fn clear(&mut self) {
        *self = TradeRing::default();
    }
}

/// FNV-1a over the trade id and exchange time: identifies a trade across two connections.
fn trade_key(m: &TradeMsg<'_>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    match m.trade_id {
        crate::event::IdRef::Num(n) => n.to_le_bytes().into_iter().for_each(&mut eat),
        crate::event::IdRef::Str(s) => s.bytes().for_each(&mut eat),
    }
    m.ts_exchange_ms
        .unwrap_or(0)
        .to_le_bytes()
        .into_iter()
        .for_each(&mut eat);
    m.px.0.to_le_bytes().into_iter().for_each(&mut eat);
    m.qty.0.to_le_bytes().into_iter().for_each(&mut eat);
    h
}

/// Sink for frames of a shard while a rotation overlaps two connections. From the replacement:
/// book pushes that would open a gap while the old stream is live are dropped (alignment), book
/// tickers and tickers dropped (the old connection still delivers them). Trades from either
/// connection are delivered once (de-duplicated by key). Control frames kept.
struct RotSink<'a> {
    core: &'a mut FeedCore,
    aligned: &'a mut [bool],
    recent: &'a mut [TradeRing],
    replacement: bool,
    dropped: u64,
}

impl Sink for RotSink<'_> {
    fn book(&mut self, m: &BookMsg<'_>) {
        if !self.replacement {
            self.core.book(m);
            return;
        }
        if let Some(si) = self.core.find(m.symbol) {
            let b = &self.core.syms[si].book;
            if b.state() != BookState::Resyncing && !m.snapshot && m.seq_first > b.seq() + 1 {
                self.dropped += 1;
                return;
            }
            self.aligned[si] = true;
        }
        self.core.book(m);
    }
    fn trade(&mut self, m: &TradeMsg<'_>) {
        if let Some(si) = self.core.find(m.symbol) {
            if !self.recent[si].insert(trade_key(m)) {
                self.dropped += 1;
                return;
            }
        }
        self.core.trade(m);
    }
    fn bbo(&mut self, m: &BboMsg<'_>) {
        if self.replacement {
            self.dropped += 1;
        } else {
            self.core.bbo(m);
        }
    }
    fn ticker(&mut self, m: &TickerMsg<'_>) {
        if self.replacement {
            self.dropped += 1;
        } else {
            self.core.ticker(m);
        }
    }
    fn order(&mut self, m: &OrderMsg<'_>) {
        self.core.order(m);
    }
    fn fill(&mut self, m: &FillMsg<'_>) {
        self.core.fill(m);
    }
    fn balance(&mut self, m: &BalanceMsg<'_>) {
        self.core.balance(m);
    }
    fn position(&mut self, m: &PositionMsg<'_>) {
        self.core.position(m);
    }
    fn control(&mut self, m: &ControlMsg<'_>) {
        self.core.control(m);
    }
}

impl Handler for MexcFeed {
    fn on_open(&mut self, conn: ConnId, now_ns: u64, out: &mut Outbox<'_>) {
        if let Some(o) = self.outs.get_mut(conn.0 as usize) {
            *o = ConnOut::new();
            o.last_pong_ns = now_ns;
        }
        match self.role(conn) {
            Role::Shard(idx) => {
                let sh = &mut self.shards[idx];
                if sh.opened_once {
                    Counters::add(&self.core.counters().reconnects, 1);
                }
                sh.opened_once = true;
                sh.down_since_ns = None;
                let chans = sh.channels.clone();
                for (k, si) in chans {
                    if k == Kind::OrderBook {
                        self.core.syms[si].book.reset(now_ns);
                        self.core.publish_state(si, now_ns);
                        self.rest_in_flight[si] = false;
                    }
                }
                self.core
                    .broadcast_status(StatusKind::ConnUp, now_ns, 0, false);
                self.subscribe_shard(out, idx, conn, now_ns);
            }
            Role::Replacement(idx) => self.subscribe_shard(out, idx, conn, now_ns),
            Role::Private => {
                if self.private.opened_once {
                    Counters::add(&self.core.counters().reconnects, 1);
                }
                self.private.opened_once = true;
                self.private.fail_streak = 0;
                if let Some(from) = self.private.down_since_ns.take() {
                    // Orders and fills may have been missed while the private stream was down.
                    self.core
                        .broadcast_status(StatusKind::PrivateGap, from, now_ns, true);
                }
                self.core
                    .broadcast_status(StatusKind::ConnUp, now_ns, 0, true);
                for kind in [Kind::Orders, Kind::Fills, Kind::Balances] {
                    if self.core.private_routes[public_index(kind)] != 0 {
                        self.request(out, conn, kind, None, true, now_ns);
                    }
                }
            }
            Role::Retiring | Role::Closing | Role::None => {
                self.set_role(conn, Role::Closing);
                out.close(conn);
            }
        }
    }

    #[inline]
    fn on_message(
        &mut self,
        conn: ConnId,
        msg: WsMessage<'_>,
        recv_ns: u64,
        _out: &mut Outbox<'_>,
    ) {
        let bytes = msg.bytes();
        let is_binary = matches!(msg, WsMessage::Binary(_));
        let c = &self.core.shared.counters;
        Counters::add(&c.messages, 1);
        Counters::add(&c.bytes, bytes.len() as u64);
        self.core.recv_ns = recv_ns;
        let t0 = now_ns();
        let rotating = match self.role(conn) {
            Role::Replacement(_) => Some(true),
            Role::Shard(idx) => (self.shards[idx].replacement.is_some()
                || recv_ns < self.shards[idx].dedupe_until_ns)
                .then_some(false),
            _ => None,
        };
        let r = match (self.role(conn), rotating) {
            (Role::Retiring | Role::Closing, _) => Ok(()),
            (_, Some(replacement)) => {
                let mut w = RotSink {
                    core: &mut self.core,
                    aligned: &mut self.aligned,
                    recent: &mut self.recent_trades,
                    replacement,
                    dropped: 0,
                };
                let r = self.decoder.decode(bytes, is_binary, &mut w);
                self.warmup_dropped += w.dropped;
                r
            }
            _ => self.decoder.decode(bytes, is_binary, &mut self.core),
        };
        self.core.decode_hist.record(now_ns().saturating_sub(t0));
        if r.is_err() {
            Counters::add(&self.core.shared.counters.decode_errors, 1);
        }
        if !self.core.requests.is_empty() {
            self.handle_requests();
        }
        if !self.core.notes.is_empty() {
            self.handle_notes(conn);
        }
    }

    fn on_down(&mut self, conn: ConnId, reason: DownReason, now_ns: u64) {
        if let Some(o) = self.outs.get_mut(conn.0 as usize) {
            *o = ConnOut::new();
        }
        match self.role(conn) {
            Role::Shard(idx) => {
                if let Some(r) = self.shards[idx].replacement {
                    // Died during rotation: the replacement takes over at once; the old slot is
                    // not reconnected. The sync catches any gap itself.
                    self.set_role(conn, Role::Retiring);
                    self.to_close.push(conn);
                    self.promote(idx, r);
                    return;
                }
                if self.shards[idx].down_since_ns.is_none() {
                    self.shards[idx].down_since_ns = Some(now_ns);
                    self.core
                        .broadcast_status(StatusKind::ConnDown, now_ns, 0, false);
                }
                let chans = self.shards[idx].channels.clone();
                for (k, si) in chans {
                    if k == Kind::OrderBook {
                        self.core.syms[si].book.reset(now_ns);
                        self.core.publish_state(si, now_ns);
                        self.rest_in_flight[si] = false;
                    }
                }
            }
            Role::Replacement(idx) => {
                // A failed warm-up: drop it, rotation is retried later.
                self.set_role(conn, Role::Retiring);
                self.to_close.push(conn);
                if self.shards[idx].replacement == Some(conn) {
                    self.shards[idx].replacement = None;
                }
            }
            Role::Private => {
                if self.private.down_since_ns.is_none() {
                    self.private.down_since_ns = Some(now_ns);
                    self.core
                        .broadcast_status(StatusKind::ConnDown, now_ns, 0, true);
                }
                if let DownReason::HandshakeRejected { status } = reason {
                    // The listen key was refused (expired or closed): stop this slot, get a new
                    // key, reopen with it. No reconnect loop on a dead key.
                    Counters::add(&self.core.shared.stats.auth_failures, 1);
                    self.core.shared.push_error(format!(
                        "MEXC private stream refused the listen key (HTTP {status}); renewing"
                    ));
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
            Role::Retiring => {
                if reason == DownReason::ClosedByUs {
                    self.set_role(conn, Role::None);
                } else {
                    self.to_close.push(conn);
                }
            }
            // The slot is freed by the reactor right after this call.
            Role::Closing => self.set_role(conn, Role::None),
            Role::None => {}
        }
    }

    fn on_tick(&mut self, now: u64, out: &mut Outbox<'_>) {
        while let Some(c) = self.to_close.pop() {
            if self.role(c) == Role::Retiring {
                self.set_role(c, Role::Closing);
                out.close(c);
            }
        }
        if !self.commands.is_empty() {
            self.handle_commands(out, now);
        }
        self.handle_replies(out, now);
        if !self.core.requests.is_empty() {
            self.handle_requests();
        }
        self.drain_queues(out, now);
        self.core.flush_rings();
        if now.saturating_sub(self.last_ping_ns) >= self.setup.ping_interval.as_nanos() as u64 {
            self.last_ping_ns = now;
            self.ping_all(out, now);
        }
        if now.saturating_sub(self.last_idle_ns) >= 100_000_000 {
            self.last_idle_ns = now;
            self.core
                .check_idle(now, self.setup.idle_timeout.as_nanos() as u64);
            self.check_ack_timeouts(now);
            self.check_pongs(out, now);
            self.drive_rotation(out, now);
            self.drive_private(out, now);
            self.core.decode_hist.poll();
            self.core.apply_hist.poll();
            self.core.ring_hist.poll();
        }
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

    #[test]
    fn request_ids_round_trip() {
        for kind in Kind::PUBLIC {
            for si in [Some(0), Some(7), Some(998), None] {
                assert_eq!(decode_id(encode_id(kind, si)), Some((kind, si)));
            }
        }
        for kind in Kind::PRIVATE {
            assert_eq!(decode_id(encode_id(kind, None)), Some((kind, None)));
        }
        assert_eq!(decode_id(0), None);
        assert_eq!(decode_id(LK_CREATE), None);
    }

    #[test]
    fn listen_key_request_is_signed_with_the_crate_credentials() {
        let c = crate::secret::Credentials::new("key", "secret");
        let req = mx::create_listen_key_request(&c, 1_644_489_390_087, None);
        assert!(req
            .path_and_query
            .starts_with("/api/v3/userDataStream?timestamp=1644489390087&signature="));
        assert_eq!(req.headers[0], (mx::API_KEY_HEADER, "key".to_string()));
    }
}
