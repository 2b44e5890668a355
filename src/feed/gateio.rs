//! Gate.io v4 feed (spot or USDT futures): one public connection (books, trades, best bid/ask,
//! tickers) and, with credentials, one private connection (orders, fills, balances, positions).
//!
//! Books: `*.obu` (first push `full`, gap → unsubscribe + resubscribe that stream) or
//! `*.order_book_update` bridged with a REST snapshot fetched on the control thread
//! (`with_id=true`, `limit` = the subscribed level). App-level `*.ping` every `ping_interval`.
//! Private subscriptions carry per-request `auth` (HMAC-SHA512); an authentication failure
//! (error code 4) is reported to the bound consumers and retried no faster than every 30 s.
//!
//! Request ids encode what they asked for (`kind`, symbol index), so an error answer is routed
//! to the consumers of exactly that channel without any lookup table.

use super::{
    encode_id, public_index, BindingHook, CommandQueue, FeedCore, FeedErrorKind, PongWatch,
};
use crate::book::SyncRequest;
use crate::channel::Kind;
use crate::exchange::gateio::{self as gate, subscribe as gsub, GateDecoder};
use crate::metrics::Counters;
use crate::net::{
    ConnId, ControlClient, DownReason, Handler, HttpMethod, HttpRequest, Outbox, SpecId, WsMessage,
};
use crate::ring::StatusKind;
use crate::types::{now_ns, wall_ms, Market};

const AUTH_RETRY_NS: u64 = 30_000_000_000;

struct Conn {
    spec: Option<SpecId>,
    conn: Option<ConnId>,
    opened_once: bool,
    down_since_ns: Option<u64>,
    /// `*.pong` liveness of this connection.
    pong: PongWatch,
}

impl Conn {
    fn new() -> Self {
        Conn {
            spec: None,
            conn: None,
            opened_once: false,
            down_since_ns: None,
            pong: PongWatch::default(),
        }
    }
}

/// The Gate.io feed handler, run by a [`crate::net::Reactor`] on the feed thread.
pub(crate) struct GateFeed {
    pub core: FeedCore,
    decoder: GateDecoder,
    control: ControlClient,
    commands: CommandQueue,
    setup: super::FeedSetup,
    creds: Option<gsub::Credentials>,
    uid: String,
    public: Conn,
    private: Conn,
    buf: String,
    url_buf: String,
    last_ping_ns: u64,
    last_idle_ns: u64,
    auth_retry_at_ns: Option<u64>,
    /// Per symbol: REST snapshot in flight.
    rest_in_flight: Vec<bool>,
}

impl GateFeed {
    pub(crate) fn new(
        core: FeedCore,
        control: ControlClient,
        commands: CommandQueue,
        setup: super::FeedSetup,
    ) -> Self {
        let n = core.syms.len();
        let creds = setup.credentials.clone();
        let uid = setup.user_id.map(|u| u.to_string()).unwrap_or_default();
        GateFeed {
            decoder: GateDecoder::new(setup.market, setup.book_levels.max(1000)),
            core,
            control,
            commands,
            creds,
            uid,
            public: Conn::new(),
            private: Conn::new(),
            buf: String::with_capacity(1024),
            url_buf: String::with_capacity(256),
            last_ping_ns: 0,
            last_idle_ns: 0,
            auth_retry_at_ns: None,
            rest_in_flight: vec![false; n],
            setup,
        }
    }

    pub(crate) fn set_specs(&mut self, public: SpecId, private: Option<SpecId>) {
        self.public.spec = Some(public);
        self.private.spec = private;
    }

    fn market(&self) -> Market {
        self.setup.market
    }

    /// Build the request for one (kind, symbol) into `self.buf`.
    fn build(&mut self, kind: Kind, si: Option<usize>, subscribe: bool) -> bool {
        let market = self.market();
        let ev = if subscribe {
            gsub::Event::Subscribe
        } else {
            gsub::Event::Unsubscribe
        };
        let id = encode_id(kind, si);
        // Signed (private) requests carry the venue's time: local clock + the offset the
        // control thread measured from `/api/v4/spot/time` (issue 13, finding 10).
        let t = self.control.server_now_ms() / 1000;
        let pair_store;
        let pairs: [&str; 1];
        let all = ["!all"];
        let ch = if let Some(si) = si {
            pair_store = self.core.syms[si].name.clone();
            pairs = [pair_store.as_str()];
            let pair = pairs[0];
            match kind {
                Kind::OrderBook if self.setup.gate_obu => gsub::Channel::Obu {
                    market,
                    pair,
                    depth: self.setup.depth as u16,
                },
                Kind::OrderBook => gsub::Channel::OrderBookUpdate {
                    market,
                    pair,
                    interval: if self.setup.interval == "20ms" {
                        "20ms"
                    } else {
                        "100ms"
                    },
                    level: match self.setup.depth {
                        20 => "20",
                        50 => "50",
                        _ => "100",
                    },
                },
                Kind::Trades => gsub::Channel::Trades {
                    market,
                    pairs: &pairs,
                },
                Kind::Bbo => gsub::Channel::BookTicker {
                    market,
                    pairs: &pairs,
                },
                Kind::Ticker => gsub::Channel::Tickers {
                    market,
                    pairs: &pairs,
                },
                _ => return false,
            }
        } else {
            let uid = self.uid.as_str();
            match (market, kind) {
                (Market::Spot, Kind::Orders) => gsub::Channel::SpotOrders { pairs: &all },
                (Market::Spot, Kind::Fills) => gsub::Channel::SpotUserTrades { pairs: &all },
                (Market::Spot, Kind::Balances) => gsub::Channel::SpotBalances,
                (Market::Futures, Kind::Orders) => gsub::Channel::FuturesOrders {
                    uid,
                    contracts: &all,
                },
                (Market::Futures, Kind::Fills) => gsub::Channel::FuturesUserTrades {
                    uid,
                    contracts: &all,
                },
                (Market::Futures, Kind::Positions) => gsub::Channel::FuturesPositions {
                    uid,
                    contracts: &all,
                },
                (Market::Futures, Kind::Balances) => gsub::Channel::FuturesBalances { uid },
                _ => return false,
            }
        };
        gsub::request(&mut self.buf, &ch, ev, id, t, self.creds.as_ref());
        true
    }

    fn send(&mut self, out: &mut Outbox<'_>, private: bool) {
        let conn = if private {
            self.private.conn
        } else {
            self.public.conn
        };
        if let Some(c) = conn {
            if out.is_live(c) {
                let _ = out.send_text(c, &self.buf);
            }
        }
    }

    fn subscribe_one(&mut self, out: &mut Outbox<'_>, kind: Kind, si: Option<usize>, on: bool) {
        if self.build(kind, si, on) {
            self.send(out, kind.is_private());
        }
        if let Some(si) = si {
            self.core.syms[si].subscribed[public_index(kind)] = on;
        }
    }

    fn subscribe_all_public(&mut self, out: &mut Outbox<'_>) {
        for si in 0..self.core.syms.len() {
            for kind in Kind::PUBLIC {
                if self.core.syms[si].routes[public_index(kind)] != 0 {
                    self.subscribe_one(out, kind, Some(si), true);
                }
            }
        }
    }

    fn subscribe_all_private(&mut self, out: &mut Outbox<'_>) {
        if self.creds.is_none() {
            return;
        }
        for kind in Kind::PRIVATE {
            if self.core.private_routes[public_index(kind)] != 0 {
                self.subscribe_one(out, kind, None, true);
            }
        }
    }

    fn ensure_private_open(&mut self, out: &mut Outbox<'_>) {
        if self.private.conn.is_none() && self.creds.is_some() {
            if let Some(spec) = self.private.spec {
                self.private.conn = out.open(spec);
            }
        }
    }

    /// Act on sync requests raised while decoding: REST snapshots, obu resubscriptions.
    fn handle_requests(&mut self, out: &mut Outbox<'_>) {
        let mut i = 0;
        while i < self.core.requests.len() {
            let (si, req) = self.core.requests[i];
            i += 1;
            match req {
                SyncRequest::Resubscribe => {
                    self.subscribe_one(out, Kind::OrderBook, Some(si), false);
                    self.subscribe_one(out, Kind::OrderBook, Some(si), true);
                }
                SyncRequest::Snapshot => {
                    if self.rest_in_flight[si] {
                        continue;
                    }
                    let limit = match self.setup.depth {
                        20 => 20,
                        50 => 50,
                        _ => 100,
                    };
                    self.url_buf.clear();
                    self.url_buf.push_str(&self.setup.rest_url);
                    let mut path = String::new();
                    gate::rest_snapshot_path(
                        &mut path,
                        self.market(),
                        &self.core.syms[si].name,
                        Some(limit),
                    );
                    self.url_buf.push_str(&path);
                    let mut headers = Vec::new();
                    if self.market() == Market::Futures {
                        let (k, v) = gate::SIZE_DECIMAL_HEADER;
                        headers.push((k.to_string(), v.to_string()));
                    }
                    let req = HttpRequest {
                        id: si as u64,
                        method: HttpMethod::Get,
                        url: self.url_buf.clone(),
                        headers,
                        body: Vec::new(),
                    };
                    if self.control.submit(req).is_ok() {
                        self.rest_in_flight[si] = true;
                    } else {
                        self.core.syms[si].book.on_request_failed(now_ns());
                    }
                }
            }
        }
        self.core.requests.clear();
    }

    fn handle_replies(&mut self) {
        while let Some(reply) = self.control.try_reply() {
            let si = reply.id as usize;
            if si >= self.core.syms.len() {
                continue;
            }
            self.rest_in_flight[si] = false;
            let now = now_ns();
            match reply.result {
                Ok((200, body)) => {
                    let name = self.core.syms[si].name.clone();
                    self.core.recv_ns = now;
                    let r = gate::decode_rest_snapshot(
                        &body,
                        &name,
                        self.setup.book_levels,
                        &mut self.core.snapshot_sink(si),
                    );
                    if r.is_err() {
                        Counters::add(&self.core.counters().decode_errors, 1);
                        self.core.syms[si].book.on_snapshot_failed(now);
                    }
                }
                Ok((status, _)) => {
                    let e = self.core.sym_error(FeedErrorKind::SnapshotHttp, Some(si));
                    self.core.log_error(e.code(status as i64));
                    self.core.syms[si].book.on_snapshot_failed(now);
                }
                Err(e) => {
                    let rec = self.core.sym_error(FeedErrorKind::SnapshotFailed, Some(si));
                    self.core.log_error(rec.detail_of(&e));
                    self.core.syms[si].book.on_snapshot_failed(now);
                }
            }
            self.core.publish_state(si, now);
        }
    }

    /// Replace a connection whose server stopped answering `*.ping` (see [`super::pong`]).
    fn check_pongs(&mut self, now: u64, out: &mut Outbox<'_>) {
        let ping_ns = self.setup.ping_interval.as_nanos() as u64;
        for c in [&mut self.public, &mut self.private] {
            if let Some(conn) = c.conn {
                self.core.check_pong(&mut c.pong, conn, now, ping_ns, out);
            }
        }
    }

    /// Act on control frames seen while decoding: acks, errors, auth failures.
    fn handle_notes(&mut self) {
        for i in 0..self.core.notes.len() {
            let n = self.core.notes[i];
            if !matches!(
                n.kind,
                crate::event::ControlKind::Error | crate::event::ControlKind::Rejected
            ) {
                continue;
            }
            let target = n.req_id.and_then(|id| self.core.target_of_id(id));
            let (kind, si) = target.unwrap_or((Kind::OrderBook, None));
            if n.code == 4 {
                Counters::add(&self.core.shared.stats.auth_failures, 1);
                self.auth_retry_at_ns = Some(now_ns() + AUTH_RETRY_NS);
                // The signed `time` may be what was refused: measure the clock again.
                self.control.resync_clock();
            }
            let msg = n.message.as_str();
            self.core
                .route_error(kind, si, n.code, n.channel.as_str(), msg);
            let e = self.core.sym_error(FeedErrorKind::Channel, si);
            self.core.log_error(
                e.code(n.code)
                    .channel(n.channel.as_str())
                    .arg(n.payload0.as_str())
                    .detail(msg),
            );
        }
        self.core.notes.clear();
    }
}

impl BindingHook for GateFeed {
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
        if kind.is_private() {
            self.ensure_private_open(out);
        }
        self.subscribe_one(out, kind, si, on);
        if !on && kind == Kind::OrderBook {
            if let Some(si) = si {
                self.core.syms[si].book.reset(now);
                self.core.publish_state(si, now);
            }
        }
    }
}

impl Handler for GateFeed {
    fn on_open(&mut self, conn: ConnId, now_ns: u64, out: &mut Outbox<'_>) {
        let spec = out.spec_of(conn);
        if spec == self.public.spec {
            self.public.conn = Some(conn);
            if self.public.opened_once {
                Counters::add(&self.core.counters().reconnects, 1);
            }
            self.public.opened_once = true;
            self.public.down_since_ns = None;
            self.public.pong.arm(now_ns);
            self.core.reset_books(now_ns);
            self.core
                .broadcast_status(StatusKind::ConnUp, now_ns, 0, false);
            self.subscribe_all_public(out);
        } else if spec == self.private.spec {
            self.private.conn = Some(conn);
            if self.private.opened_once {
                Counters::add(&self.core.counters().reconnects, 1);
            }
            self.private.opened_once = true;
            self.private.pong.arm(now_ns);
            if let Some(from) = self.private.down_since_ns.take() {
                // Fills may have been missed while the private stream was down.
                self.core
                    .broadcast_status(StatusKind::PrivateGap, from, now_ns, true);
            }
            self.core
                .broadcast_status(StatusKind::ConnUp, now_ns, 0, true);
            self.subscribe_all_private(out);
        }
    }

    #[inline]
    fn on_message(&mut self, conn: ConnId, msg: WsMessage<'_>, recv_ns: u64, out: &mut Outbox<'_>) {
        let bytes = msg.bytes();
        let c = &self.core.shared.counters;
        Counters::add(&c.messages, 1);
        Counters::add(&c.bytes, bytes.len() as u64);
        self.core.recv_ns = recv_ns;
        let t0 = now_ns();
        let r = self.decoder.decode(bytes, &mut self.core);
        self.core.decode_hist.record(now_ns().saturating_sub(t0));
        if r.is_err() {
            Counters::add(&self.core.shared.counters.decode_errors, 1);
        }
        if !self.core.requests.is_empty() {
            self.handle_requests(out);
        }
        if self.core.take_pong() {
            if Some(conn) == self.public.conn {
                self.public.pong.pong(recv_ns);
            } else if Some(conn) == self.private.conn {
                self.private.pong.pong(recv_ns);
            }
        }
        if !self.core.notes.is_empty() {
            self.handle_notes();
        }
    }

    fn on_down(&mut self, conn: ConnId, reason: DownReason, now_ns: u64) {
        if Some(conn) == self.public.conn {
            if self.public.down_since_ns.is_none() {
                self.public.down_since_ns = Some(now_ns);
                self.core
                    .broadcast_status(StatusKind::ConnDown, now_ns, 0, false);
            }
            if reason == DownReason::Stale {
                // Silent socket: the books are stale now; the reconnect resyncs them.
                self.core.mark_all_stale(now_ns);
            } else {
                self.core.reset_books(now_ns);
            }
            self.rest_in_flight.iter_mut().for_each(|f| *f = false);
        } else if Some(conn) == self.private.conn && self.private.down_since_ns.is_none() {
            self.private.down_since_ns = Some(now_ns);
            self.core
                .broadcast_status(StatusKind::ConnDown, now_ns, 0, true);
        }
    }

    fn on_tick(&mut self, now: u64, out: &mut Outbox<'_>) {
        if !self.commands.is_empty() {
            self.handle_commands(out, now);
        }
        self.handle_replies();
        if !self.core.requests.is_empty() {
            self.handle_requests(out);
        }
        self.core.flush_rings();
        if now.saturating_sub(self.last_ping_ns) >= self.setup.ping_interval.as_nanos() as u64 {
            self.last_ping_ns = now;
            let t = wall_ms() / 1000;
            let market = self.market();
            gsub::ping(&mut self.buf, market, t);
            self.send(out, false);
            if self.private.conn.is_some() {
                self.send(out, true);
            }
        }
        if now.saturating_sub(self.last_idle_ns) >= 100_000_000 {
            self.last_idle_ns = now;
            self.core.shared.check_injected_panic();
            self.check_pongs(now, out);
            self.core
                .check_idle(now, self.setup.idle_timeout.as_nanos() as u64);
            self.core.decode_hist.poll();
            self.core.apply_hist.poll();
            self.core.ring_hist.poll();
        }
        if let Some(at) = self.auth_retry_at_ns {
            if now >= at {
                self.auth_retry_at_ns = None;
                self.subscribe_all_private(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::decode_id;

    #[test]
    fn request_ids_round_trip() {
        for kind in Kind::PUBLIC {
            for si in [Some(0), Some(7), None] {
                assert_eq!(decode_id(encode_id(kind, si)), Some((kind, si)));
            }
        }
        for kind in Kind::PRIVATE {
            assert_eq!(decode_id(encode_id(kind, None)), Some((kind, None)));
        }
        assert_eq!(decode_id(5), None);
        assert_eq!(decode_id(u64::MAX), None);
    }
}
