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
//! trade id, time, price and size) while they overlap, and the promoted connection's after the
//! handover until it presents a trade the ring does not hold (no clock involved), so none is
//! repeated at the handover; book
//! tickers and tickers from the replacement are dropped until handover (the old connection
//! still delivers them). Handover = every channel acked on the replacement and every book
//! symbol of the shard has had a contiguous push from it (or [`ROTATE_MAX_WAIT_NS`] passed):
//! the old connection is closed by us, books stay `Live` throughout. If the old connection dies
//! first, the replacement is promoted at once (no reset: the sync itself detects any gap).
//!
//! # Private
//! With credentials and a bound private kind: the venue's clock is measured (`GET
//! /api/v3/time`; signed timestamps are local time + offset, `700003` re-measures), then
//! `POST /api/v3/userDataStream` (signed) on the control thread → listen key → private spec URL
//! `?listenKey=KEY` → open → subscribe the bound private channels. `PUT` keep-alive every
//! `setup.listen_key_keepalive` (`listen_key_keepalive_s`); one that fails with the key still
//! valid (transport, 429, 5xx, clock) is retried within a minute; a listen-key error
//! (`730708`) or a refused WebSocket upgrade → new key and reconnect. Creation failures are
//! counted in `auth_failures`, routed as `Error` events to the private consumers, and retried
//! with exponential backoff (2 s … 60 s). A private reconnect sends `PrivateGap`. At
//! `setup.rotate_after` the private connection is rotated make-before-break like the shards
//! (`private_rotation.rs`: same key, handover once the replacement's subscriptions are acked,
//! orders/fills/balances de-duplicated, no `PrivateGap`). The key is `DELETE`d (best effort,
//! bounded wait) in [`MexcFeed::into_core`].
//!
//! # Staleness
//! Aggregated depth pushes only on change: a book is marked stale when it has been silent for
//! `idle_timeout` *and* the connection carrying it answered no ping for as long (a quiet book
//! on a live connection is healthy), or when the symbol's trades or book tickers (each a depth
//! change) kept arriving an `idle_timeout` after its depth went silent (the depth channel
//! stopped on a live connection). A venue's own `{"method":"PING"}` is answered with
//! `{"method":"PONG"}`.
//!
//! # Files
//! | file | concern |
//! |---|---|
//! | `mod.rs` | the handler: connection roles, event dispatch, commands, acks and errors, REST snapshots |
//! | `shards.rs` | placing channels on shard connections, shard open/down |
//! | `pacing.rs` | per-connection outbound pacing and tracked subscription requests |
//! | `rotation.rs` | make-before-break rotation, book alignment and trade de-duplication |
//! | `private.rs` | the listen-key lifecycle, the venue clock and the private connection |
//! | `private_rotation.rs` | make-before-break rotation of the private connection, private de-duplication |

mod pacing;
mod private;
mod private_rotation;
mod rotation;
mod shards;

use self::pacing::ConnOut;
use self::private::{PrivateState, LK_CLOSE, LK_CREATE, LK_KEEPALIVE, LK_TIME};
use self::private_rotation::PrivRotSink;
use self::rotation::{RotFrom, RotSink, TradeRing};
use self::shards::Shard;
use super::retry::SubRetry;

use super::{
    public_index, BindingHook, CommandQueue, FeedCore, FeedErrorKind, FeedSetup, PUBLIC_SLOTS,
};
use crate::book::SyncRequest;
use crate::channel::Kind;
use crate::event::{ControlKind, ControlMsg};
use crate::exchange::mexc::{self as mx, AckOutcome, Interval, MexcDecoder};
#[cfg(doc)]
use crate::exchange::mexc::{
    OutboundLimiter, SubscriptionTracker, MAX_SUBSCRIPTIONS_PER_CONNECTION,
};
use crate::metrics::Counters;
use crate::net::{
    ConnId, ConnSpec, ControlClient, DownReason, Handler, HttpMethod, HttpReply, HttpRequest,
    NetError, Outbox, Reactor, SpecId, WsMessage,
};
use crate::ring::InlineStr;
use crate::types::now_ns;

/// A subscription not acknowledged within this is reported as failed.
const ACK_TIMEOUT_NS: u64 = 10_000_000_000;
/// Slots tracked per connection id (the reactor's `max_conns` is at most this).
pub(crate) const MAX_CONN_SLOTS: usize = 64;
/// Mini ticker time zone suffix.
const TICKER_TZ: &str = "UTC+8";

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
    /// Make-before-break replacement of the private connection, warming up.
    PrivateReplacement,
}

/// The MEXC spot feed handler, run by a [`crate::net::Reactor`] on the feed thread.
pub(crate) struct MexcFeed {
    core: FeedCore,
    decoder: MexcDecoder,
    control: ControlClient,
    commands: CommandQueue,
    setup: FeedSetup,
    creds: Option<mx::Credentials>,
    public_spec: Option<SpecId>,
    shards: Vec<Shard>,
    /// Per symbol, per public kind: the shard carrying it.
    shard_of: Vec<[Option<usize>; PUBLIC_SLOTS.len()]>,
    /// Per symbol, per public kind: the channel name.
    names: Vec<[String; PUBLIC_SLOTS.len()]>,
    roles: Vec<Role>,
    outs: Vec<ConnOut>,
    /// Per symbol: the replacement being warmed has delivered a contiguous book push.
    aligned: Vec<bool>,
    /// Per symbol: keys of trades delivered while a rotation overlaps two connections.
    recent_trades: Vec<TradeRing>,
    private: PrivateState,
    rest_in_flight: Vec<bool>,
    /// Per symbol, per public kind: retry state of a refused subscription (issue 13, finding 11).
    retry: Vec<[SubRetry; PUBLIC_SLOTS.len()]>,
    /// Earliest scheduled retry (0 = none): `on_tick` scans `retry` only from then.
    next_retry_ns: u64,
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
                let fixed = [
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
                ];
                // One name per public slot: the four above, then a kline channel per interval
                // MEXC offers (`spot@public.kline.v3.api.pb@<SYMBOL>@<Min1…Month1>`,
                // protocols.md §1.4; the captured push in fixtures/mexc_spot_kline.frame.hex
                // names `…@BTCUSDT@Min1`); "" for an interval MEXC lacks (never bound: the
                // channel grammar refuses it).
                std::array::from_fn(|k| match PUBLIC_SLOTS[k] {
                    Kind::Kline(iv) => iv
                        .venue_code(crate::types::Venue::Mexc)
                        .map(|code| format!("spot@public.kline.v3.api.pb@{sym}@{code}"))
                        .unwrap_or_default(),
                    _ => fixed[k].clone(),
                })
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
            shard_of: vec![[None; PUBLIC_SLOTS.len()]; n],
            retry: vec![[SubRetry::default(); PUBLIC_SLOTS.len()]; n],
            next_retry_ns: 0,
            names,
            roles: vec![Role::None; MAX_CONN_SLOTS],
            outs: (0..MAX_CONN_SLOTS).map(|_| ConnOut::new()).collect(),
            aligned: vec![false; n],
            recent_trades: (0..n).map(|_| TradeRing::default()).collect(),
            private: PrivateState::new(),
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
        self.close_listen_key();
        self.core
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
            if let Some(k) = n.iter().position(|x| !x.is_empty() && x == ch) {
                return Some((PUBLIC_SLOTS[k], Some(si)));
            }
        }
        None
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
                LK_CREATE | LK_KEEPALIVE => {
                    // Recorded (issue 15) so a replay opens the private stream at the same
                    // point, but never with the key: a placeholder body on success, the status
                    // alone on a refusal (its text may echo the key), "redacted" for a
                    // transport error.
                    match &reply.result {
                        Ok((200, _)) => out.record_reply_as(
                            reply.id,
                            200,
                            br#"{"listenKey":"recordedKeyRedacted"}"#,
                        ),
                        Ok((status, _)) => out.record_reply_as(reply.id, *status, b""),
                        Err(_) => out.record_reply_as(reply.id, 0, b"redacted"),
                    }
                    if reply.id == LK_CREATE {
                        self.on_key_created(out, reply, now)
                    } else {
                        self.on_keepalive(reply, now)
                    }
                }
                LK_TIME => {
                    // The server's clock (recorded: the private stream waits for it).
                    out.record_reply(&reply);
                    self.on_server_time(reply, now)
                }
                LK_CLOSE => {}
                id if (id as usize) < self.core.syms.len() => {
                    // Recorded where the sync consumes it (issue 15); listen-key replies are
                    // not (they carry the key).
                    out.record_reply(&reply);
                    self.on_snapshot(reply, now)
                }
                _ => {}
            }
        }
    }

    fn on_snapshot(&mut self, reply: HttpReply, now: u64) {
        let si = reply.id as usize;
        self.rest_in_flight[si] = false;
        let failed = self.core.sym_error(FeedErrorKind::SnapshotFailed, Some(si));
        let parsed = match reply.result {
            Ok((status, body)) => {
                mx::parse_depth_snapshot(status, &body).map_err(|e| failed.detail_of(&e))
            }
            Err(e) => Err(failed.detail_of(&e)),
        };
        match parsed {
            Ok(snap) => {
                let name = self.core.syms[si].name.clone();
                self.core.recv_ns = now;
                self.core.apply_snapshot(si, &snap.book_msg(&name));
            }
            Err(e) => {
                self.core.log_error(e);
                self.core.syms[si].book.on_snapshot_failed(now);
            }
        }
        self.core.publish_state(si, now);
        if !self.core.requests.is_empty() {
            self.handle_requests();
        }
    }

    fn handle_notes(&mut self, conn: ConnId) {
        let idx = conn.0 as usize;
        for i in 0..self.core.notes.len() {
            let n = self.core.notes[i];
            if n.kind == ControlKind::Pong {
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
                AckOutcome::Confirmed(p) => {
                    match self.core.target_of_id(p.id) {
                        Some((kind, Some(si))) => {
                            if let Some(r) = self.retry.get_mut(si) {
                                r[public_index(kind)].backoff_ns = 0;
                            }
                        }
                        Some((kind, None)) if kind.is_private() => self.core.private_live(),
                        _ => {}
                    }
                    continue;
                }
                AckOutcome::Rejected(p) => (
                    self.core.target_of_id(p.id),
                    InlineStr::new(p.channels.first().map_or("", |c| c.as_str())).0,
                ),
                AckOutcome::Unmatched => {
                    if n.kind == ControlKind::Ack {
                        continue;
                    }
                    let ch = n.channel;
                    (
                        n.req_id
                            .and_then(|id| self.core.target_of_id(id))
                            .or_else(|| self.target_of(ch.as_str())),
                        ch,
                    )
                }
            };
            let ch = ch.as_str();
            let msg = if n.message.as_str().is_empty() {
                "subscription refused"
            } else {
                n.message.as_str()
            };
            let e = self
                .core
                .sym_error(FeedErrorKind::Channel, target.and_then(|t| t.1));
            if let Some((kind, Some(si))) = target {
                if !kind.is_private() {
                    let now = now_ns();
                    self.on_refused(kind, si, n.blocked, now);
                }
            }
            match target {
                Some((kind, si)) => self.core.route_error(kind, si, n.code, ch, msg),
                None => Counters::add(&self.core.shared.stats.channel_errors, 1),
            }
            self.core.log_error(e.code(n.code).channel(ch).detail(msg));
        }
        self.core.notes.clear();
    }

    /// A public subscription was refused (or never acknowledged): a permanent refusal marks
    /// it refused (not retried, not resent on reconnect until bound again); anything else is
    /// retried after a backoff.
    pub(super) fn on_refused(&mut self, kind: Kind, si: usize, permanent: bool, now: u64) {
        let Some(r) = self.retry.get_mut(si).map(|r| &mut r[public_index(kind)]) else {
            return;
        };
        if permanent {
            r.refused = true;
            r.retry_at_ns = 0;
        } else {
            r.schedule(now);
            Counters::add(&self.core.shared.stats.sub_retries, 1);
            if self.next_retry_ns == 0 || r.retry_at_ns < self.next_retry_ns {
                self.next_retry_ns = r.retry_at_ns;
            }
        }
    }

    /// Send the subscriptions whose retry is due on the connection carrying them.
    fn retry_due(&mut self, out: &mut Outbox<'_>, now: u64) {
        if self.next_retry_ns == 0 || now < self.next_retry_ns {
            return;
        }
        self.next_retry_ns = 0;
        for si in 0..self.retry.len() {
            for kind in PUBLIC_SLOTS {
                let k = public_index(kind);
                let r = &mut self.retry[si][k];
                if r.retry_at_ns == 0 {
                    continue;
                }
                if !r.due(now) {
                    if self.next_retry_ns == 0 || r.retry_at_ns < self.next_retry_ns {
                        self.next_retry_ns = r.retry_at_ns;
                    }
                    continue;
                }
                r.retry_at_ns = 0;
                let Some(idx) = self.shard_of[si][k] else {
                    continue; // unbound meanwhile
                };
                if let Some(c) = self.shards[idx].conn {
                    self.request(out, c, kind, Some(si), true, now);
                }
            }
        }
    }

    fn check_ack_timeouts(&mut self, now: u64) {
        for i in 0..self.outs.len() {
            while let Some(p) = self.outs[i].tracker.poll_timeout(now, ACK_TIMEOUT_NS) {
                let ch = p.channels.first().cloned().unwrap_or_default();
                let msg = "subscription not acknowledged within 10 s";
                let target = self.core.target_of_id(p.id);
                let e = self
                    .core
                    .sym_error(FeedErrorKind::AckTimeout, target.and_then(|t| t.1));
                if let Some((kind, si)) = target {
                    if let (false, Some(si)) = (kind.is_private(), si) {
                        self.on_refused(kind, si, false, now);
                    }
                    self.core.route_error(kind, si, -1, &ch, msg);
                }
                self.core.log_error(e.channel(&ch));
            }
        }
    }

    /// Replace connections whose venue stopped answering PING while the socket stays open
    /// (data may still flow, so the idle timer would never fire).
    fn check_pongs(&mut self, out: &mut Outbox<'_>, now: u64) {
        let ping_ns = self.setup.ping_interval.as_nanos() as u64;
        for (i, o) in self.outs.iter_mut().enumerate().take(self.roles.len()) {
            if matches!(
                self.roles[i],
                Role::Shard(_) | Role::Replacement(_) | Role::Private | Role::PrivateReplacement
            ) {
                self.core
                    .check_pong(&mut o.pong, ConnId(i as u16), now, ping_ns, out);
            }
        }
    }

    fn ping_all(&mut self, out: &mut Outbox<'_>, now: u64) {
        for i in 0..self.roles.len() {
            if matches!(
                self.roles[i],
                Role::Shard(_) | Role::Replacement(_) | Role::Private | Role::PrivateReplacement
            ) {
                let c = ConnId(i as u16);
                if out.is_live(c) {
                    self.send(out, c, mx::PING_REQUEST, now);
                }
            }
        }
    }
}

impl BindingHook for MexcFeed {
    fn core_mut(&mut self) -> &mut FeedCore {
        &mut self.core
    }

    fn commands(&self) -> &CommandQueue {
        &self.commands
    }

    fn on_binding(
        &mut self,
        out: &mut Outbox<'_>,
        kind: Kind,
        si: Option<usize>,
        on: bool,
        now: u64,
    ) {
        if kind == Kind::Positions {
            if on {
                self.core
                    .route_error(kind, None, -1, "", "MEXC spot has no positions channel");
            }
            return;
        }
        if kind.is_private() {
            if self.creds.is_none() {
                return;
            }
            if let Some(c) = self.private.conn.filter(|&c| out.is_live(c)) {
                self.request(out, c, kind, None, on, now);
            }
            if let Some(c) = self
                .private
                .rotation
                .replacement
                .filter(|&c| out.is_live(c))
            {
                self.request(out, c, kind, None, on, now);
            }
            // Otherwise the subscription goes out when the connection opens.
            return;
        }
        let Some(si) = si else { return };
        if on {
            self.add_public(out, kind, si, now);
        } else {
            self.remove_public(out, kind, si, now);
        }
    }
}

impl Handler for MexcFeed {
    fn on_open(&mut self, conn: ConnId, now_ns: u64, out: &mut Outbox<'_>) {
        if let Some(o) = self.outs.get_mut(conn.0 as usize) {
            o.reset();
            o.pong.arm(now_ns);
        }
        match self.role(conn) {
            Role::Shard(idx) => self.on_shard_open(out, idx, conn, now_ns),
            Role::Replacement(idx) => self.subscribe_shard(out, idx, conn, now_ns),
            Role::Private => self.on_private_open(out, conn, now_ns),
            Role::PrivateReplacement => self.on_private_replacement_open(out, conn, now_ns),
            Role::Retiring | Role::Closing | Role::None => {
                self.set_role(conn, Role::Closing);
                out.close(conn);
            }
        }
    }

    #[inline]
    fn on_message(&mut self, conn: ConnId, msg: WsMessage<'_>, recv_ns: u64, out: &mut Outbox<'_>) {
        let bytes = msg.bytes();
        let is_binary = matches!(msg, WsMessage::Binary(_));
        let c = &self.core.shared.counters;
        Counters::add(&c.messages, 1);
        Counters::add(&c.bytes, bytes.len() as u64);
        self.core.recv_ns = recv_ns;
        let t0 = now_ns();
        let rotating = match self.role(conn) {
            Role::Replacement(_) => Some(RotFrom::Replacement),
            Role::Shard(idx) if self.shards[idx].replacement.is_some() => Some(RotFrom::Old),
            Role::Shard(idx) if self.shards[idx].catch_up => Some(RotFrom::Promoted),
            _ => None,
        };
        let role = self.role(conn);
        let private_rot = self.private_rot_from(role);
        let r = match (role, rotating) {
            (Role::Retiring | Role::Closing, _) => Ok(()),
            (Role::Private | Role::PrivateReplacement, _) if private_rot.is_some() => {
                let mut w = PrivRotSink {
                    core: &mut self.core,
                    rings: &mut self.private.rotation.rings,
                    from: private_rot.unwrap_or(RotFrom::Old),
                    dropped: 0,
                };
                let r = self.decoder.decode(bytes, is_binary, &mut w);
                self.warmup_dropped += w.dropped;
                r
            }
            (_, Some(from)) => {
                let mut w = RotSink {
                    core: &mut self.core,
                    aligned: &mut self.aligned,
                    recent: &mut self.recent_trades,
                    from,
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
        if self.core.take_pong() {
            if let Some(o) = self.outs.get_mut(conn.0 as usize) {
                o.pong.pong(recv_ns);
            }
        }
        if self.core.take_ping() {
            // The venue's own `{"method":"PING"}`: answered (a static text, paced like every
            // outbound frame); it also shows the connection is alive.
            if let Some(o) = self.outs.get_mut(conn.0 as usize) {
                o.pong.pong(recv_ns);
            }
            self.send(out, conn, mx::SERVER_PING_REPLY, recv_ns);
        }
        if !self.core.notes.is_empty() {
            self.handle_notes(conn);
        }
    }

    fn on_down(&mut self, conn: ConnId, reason: DownReason, now_ns: u64) {
        if let Some(o) = self.outs.get_mut(conn.0 as usize) {
            o.reset();
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
                self.on_shard_down(idx, now_ns);
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
                if let Some(r) = self.private.rotation.replacement {
                    // Died during the rotation: the replacement takes over at once; a gap only
                    // if it had not subscribed yet.
                    self.set_role(conn, Role::Retiring);
                    self.to_close.push(conn);
                    let o = &self.outs[r.0 as usize];
                    let ready = o.subscribed_once && o.tracker.pending().is_empty();
                    self.promote_private(r, now_ns, !ready);
                    return;
                }
                self.on_private_down(conn, reason, now_ns)
            }
            Role::PrivateReplacement => {
                // A failed warm-up: drop it, the rotation is retried later.
                self.set_role(conn, Role::Retiring);
                self.to_close.push(conn);
                if self.private.rotation.replacement == Some(conn) {
                    self.private.rotation.replacement = None;
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
        self.core.poll_recon();
        self.retry_due(out, now);
        self.drain_queues(out, now);
        self.core.flush_rings();
        if now.saturating_sub(self.last_ping_ns) >= self.setup.ping_interval.as_nanos() as u64 {
            self.last_ping_ns = now;
            self.ping_all(out, now);
        }
        if now.saturating_sub(self.last_idle_ns) >= 100_000_000 {
            self.last_idle_ns = now;
            self.core.shared.check_injected_panic();
            self.core.check_injected_gap(now);
            // Aggregated depth pushes only on change: a book's silence means nothing while the
            // connection carrying it answers pings (issue 13, finding 8) — unless the symbol's
            // trades or book tickers kept arriving an idle period after its depth went silent
            // (a trade or a new best price is a depth change: the depth channel stopped while
            // the connection lives).
            let idle = self.setup.idle_timeout.as_nanos() as u64;
            let (shards, shard_of, outs) = (&self.shards, &self.shard_of, &self.outs);
            self.core.check_idle_alive(now, idle, |si, sym| {
                if sym.last_market_ns > sym.book.last_input_ns().saturating_add(idle) {
                    return 0;
                }
                shard_of[si][public_index(Kind::OrderBook)]
                    .and_then(|i| shards[i].conn)
                    .and_then(|c| outs.get(c.0 as usize))
                    .map_or(0, |o| o.pong.last_ns())
            });
            self.check_ack_timeouts(now);
            self.check_pongs(out, now);
            self.drive_rotation(out, now);
            self.drive_private(out, now);
            self.drive_private_rotation(out, now);
            self.core.decode_hist.poll();
            self.core.apply_hist.poll();
            self.core.ring_hist.poll();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::{decode_id, encode_id};

    #[test]
    fn request_ids_round_trip() {
        for kind in PUBLIC_SLOTS {
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
}
