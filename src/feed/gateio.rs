//! Gate.io v4 feed (spot or USDT futures): one public connection (books, trades, best bid/ask,
//! tickers) and, with credentials, one private connection (orders, fills, balances, positions).
//!
//! Books: `*.obu` (first push `full`, gap → unsubscribe that stream, and subscribe it again
//! only once the unsubscribe is acknowledged: Gate refuses a second subscription to a stream
//! it still holds with `Alert sub`, code 2) or `*.order_book_update` bridged with a REST
//! snapshot fetched on the control thread (`with_id=true`, `limit` = the levels the stream
//! covers, [`gate::channel::book_stream`]). A book still `Resyncing` after `resync_timeout`
//! (connection up) is escalated: resubscribed the same way with the deadline doubling, and
//! after [`RESUBSCRIBES_BEFORE_RECONNECT`] such retries its connection is replaced (an
//! `order_book_update` book that has nothing buffered and nothing asked for is waiting for its
//! market's first change, not hung, and is not escalated).
//! App-level `*.ping` every `ping_interval`.
//!
//! Refusals ([`gate::refusal`]): transient ones (code 3, unknown) are retried with backoff
//! from 1 s doubling to 60 s; `Alert sub` is retried through unsubscribe → ack → subscribe;
//! permanent ones (invalid argument: unknown pair, refused interval or level) are reported
//! once and never retried (a new bind tries again). Private subscriptions carry per-request
//! `auth` (HMAC-SHA512); an authentication failure (error code 4) is reported to the bound
//! consumers and retried no faster than every 30 s.
//!
//! `*.system` notices are counted (`venue_notices`), logged and sent to every consumer as a
//! [`StatusKind::VenueNotice`]; an `upgrade` notice (the server is about to close the
//! connection) replaces the public connection make-before-break: a second connection is opened
//! and subscribed, and the old one is closed once every book is live on the new one (or after
//! [`HANDOVER_LIMIT_NS`]).
//!
//! Request ids encode what they asked for (`kind`, symbol index), so an error answer is routed
//! to the consumers of exactly that channel without any lookup table.

use super::{
    encode_id, public_index, BindingHook, CommandQueue, FeedCore, FeedErrorKind, PongWatch,
    PUBLIC_SLOTS,
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
use super::retry::SubRetry;
/// Resync escalations that resubscribe the book's stream before the next one replaces the
/// connection instead.
pub(crate) const RESUBSCRIBES_BEFORE_RECONNECT: u32 = 2;
/// Longest overlap of the old and the new public connection after an `upgrade` notice.
pub(crate) const HANDOVER_LIMIT_NS: u64 = 10_000_000_000;

/// Resync watch of one symbol's book.
#[derive(Clone, Copy, Debug, Default)]
struct BookWatch {
    /// An unsubscribe was sent to resubscribe the stream; the subscribe follows its answer.
    unsub_pending: bool,
    /// When the book was first seen resyncing (0 = not resyncing, or not watched).
    resyncing_since_ns: u64,
    /// Escalations since the book was last live (the deadline doubles with each).
    escalations: u32,
}

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
    /// The book stream as Gate accepts it (None: a hand-built setup Gate would refuse; sent as
    /// given so the refusal is reported).
    stream: Option<gate::channel::BookStream>,
    /// Per symbol and public kind: retry state.
    retry: Vec<[SubRetry; PUBLIC_SLOTS.len()]>,
    /// Per private kind: retry state.
    retry_private: [SubRetry; 4],
    /// Per symbol: resync deadline and resubscribe state.
    watch: Vec<BookWatch>,
    /// Make-before-break after an `upgrade` notice: the connection being replaced, and when
    /// the replacement was opened.
    draining: Option<(ConnId, u64)>,
    /// The replacement is wanted (an `upgrade` notice arrived).
    handover_wanted: bool,
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
            stream: {
                let (m, iv, d) = (setup.market, setup.interval.as_str(), setup.depth);
                // What goes on the wire decides: obu sends the depth only, spot
                // order_book_update the interval only, futures both.
                match (setup.gate_obu, m) {
                    (true, _) => gate::channel::book_stream(m, true, None, Some(d)),
                    (false, Market::Spot) => gate::channel::book_stream(m, false, Some(iv), None),
                    (false, Market::Futures) => {
                        gate::channel::book_stream(m, false, Some(iv), Some(d))
                    }
                }
                .ok()
            },
            retry: vec![[SubRetry::default(); PUBLIC_SLOTS.len()]; n],
            retry_private: [SubRetry::default(); 4],
            watch: vec![BookWatch::default(); n],
            draining: None,
            handover_wanted: false,
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
                    interval: match self.stream {
                        Some(s) => s.interval,
                        None if self.setup.interval == "20ms" => "20ms",
                        None => "100ms",
                    },
                    level: match self.stream.map(|s| s.depth).unwrap_or(self.setup.depth) {
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
                Kind::Kline(iv) => match iv.venue_code(crate::types::Venue::Gateio) {
                    Some(interval) => gsub::Channel::Candlesticks {
                        market,
                        interval,
                        pair,
                    },
                    None => return false,
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
        self.send_request(out, kind, si, on);
        if let Some(si) = si {
            self.core.syms[si].subscribed[public_index(kind)] = on;
        }
    }

    /// Send a (un)subscribe without changing what the feed considers subscribed.
    fn send_request(&mut self, out: &mut Outbox<'_>, kind: Kind, si: Option<usize>, on: bool) {
        if self.build(kind, si, on) {
            self.send(out, kind.is_private());
        }
    }

    /// Resubscribe a book's stream: unsubscribe now, subscribe when the unsubscribe is
    /// answered ([`Self::on_unsubscribed`]). Gate refuses a subscription to a stream the
    /// connection still holds (`Alert sub`, code 2; protocols.md §2.3, Gate futures WS v4
    /// "Subscription Limitations"), so the two are never sent back to back.
    fn resubscribe_book(&mut self, out: &mut Outbox<'_>, si: usize) {
        if self.watch[si].unsub_pending {
            return;
        }
        self.watch[si].unsub_pending = true;
        self.send_request(out, Kind::OrderBook, Some(si), false);
    }

    /// The venue answered our unsubscribe of symbol `si`'s book (ack, or an error saying it
    /// holds no such subscription): subscribe again if a resubscribe waits for it.
    fn on_unsubscribed(&mut self, out: &mut Outbox<'_>, si: usize) {
        if std::mem::take(&mut self.watch[si].unsub_pending) && self.core.syms[si].subscribed[0] {
            self.send_request(out, Kind::OrderBook, Some(si), true);
        }
    }

    fn retry_of(&mut self, kind: Kind, si: Option<usize>) -> Option<&mut SubRetry> {
        match si {
            Some(si) => self.retry.get_mut(si).map(|r| &mut r[public_index(kind)]),
            None if kind.is_private() => Some(&mut self.retry_private[public_index(kind)]),
            None => None,
        }
    }

    fn subscribe_all_public(&mut self, out: &mut Outbox<'_>) {
        for si in 0..self.core.syms.len() {
            self.watch[si] = BookWatch::default();
            for kind in PUBLIC_SLOTS {
                let k = public_index(kind);
                self.retry[si][k].retry_at_ns = 0;
                if self.core.syms[si].routes[k] != 0 {
                    if self.retry[si][k].refused {
                        // Refused for good on an earlier connection: reported then, not resent.
                        self.core.syms[si].subscribed[k] = true;
                        continue;
                    }
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
                SyncRequest::Resubscribe => self.resubscribe_book(out, si),
                SyncRequest::Snapshot => {
                    if self.rest_in_flight[si] {
                        continue;
                    }
                    // The levels the stream keeps up to date: a deeper snapshot would leave
                    // levels no push updates (protocols.md §3.3, §4.3: "limit must equal level").
                    let limit = match self.stream {
                        Some(s) => s.levels,
                        None => self.setup.depth.clamp(1, 100),
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

    fn handle_replies(&mut self, out: &mut Outbox<'_>) {
        while let Some(reply) = self.control.try_reply() {
            let si = reply.id as usize;
            if si >= self.core.syms.len() {
                continue;
            }
            // Recorded (when recording) where the sync consumes it, so a replay applies it at
            // the same point of the stream (issue 15).
            out.record_reply(&reply);
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

    /// Act on control frames seen while decoding: acks (an unsubscribe's ack lets a
    /// resubscribe proceed; a subscribe's ack ends its retries), refusals (by
    /// [`gate::refusal`]), notices.
    fn handle_notes(&mut self, conn: ConnId, out: &mut Outbox<'_>) {
        let now = now_ns();
        for i in 0..self.core.notes.len() {
            let n = self.core.notes[i];
            let target = n.req_id.and_then(|id| self.core.target_of_id(id));
            match n.kind {
                crate::event::ControlKind::Ack => {
                    match target {
                        Some((Kind::OrderBook, Some(si))) if n.unsubscribe => {
                            self.on_unsubscribed(out, si)
                        }
                        Some((kind, si)) if !n.unsubscribe => {
                            if let Some(r) = self.retry_of(kind, si) {
                                *r = SubRetry::default();
                            }
                            if kind.is_private() {
                                self.core.private_live();
                            }
                        }
                        _ => {}
                    }
                    continue;
                }
                crate::event::ControlKind::Notice => {
                    self.on_notice(conn, &n, now, out);
                    continue;
                }
                crate::event::ControlKind::Error | crate::event::ControlKind::Rejected => {}
                crate::event::ControlKind::Pong | crate::event::ControlKind::Ping => continue,
            }
            let (kind, si) = target.unwrap_or((Kind::OrderBook, None));
            let msg = n.message.as_str();
            let e = self.core.sym_error(FeedErrorKind::Channel, si);
            self.core.log_error(
                e.code(n.code)
                    .channel(n.channel.as_str())
                    .arg(n.payload0.as_str())
                    .detail(msg),
            );
            if n.unsubscribe {
                // Our unsubscribe was refused (e.g. the venue holds no such subscription):
                // either way the stream is not held, so a waiting resubscribe goes ahead.
                Counters::add(&self.core.shared.stats.channel_errors, 1);
                if let (Kind::OrderBook, Some(si)) = (kind, si) {
                    self.on_unsubscribed(out, si);
                }
                continue;
            }
            match gate::refusal(n.code, msg) {
                gate::Refusal::Auth => {
                    Counters::add(&self.core.shared.stats.auth_failures, 1);
                    self.auth_retry_at_ns = Some(now + AUTH_RETRY_NS);
                    // The signed `time` may be what was refused: measure the clock again.
                    self.control.resync_clock();
                }
                gate::Refusal::Permanent => {
                    // Reported once (below), never retried: the same request fails the same way.
                    if let Some(r) = self.retry_of(kind, si) {
                        r.refused = true;
                        r.retry_at_ns = 0;
                    }
                }
                gate::Refusal::Duplicate if kind == Kind::OrderBook && si.is_some() => {
                    // The venue still holds the book's stream (a subscribe that raced an
                    // unsubscribe): retry through unsubscribe → ack → subscribe.
                    if let Some(r) = self.retry_of(kind, si) {
                        r.schedule(now);
                    }
                }
                gate::Refusal::Duplicate => {
                    // Trades, tickers, private: the connection already has the stream.
                }
                gate::Refusal::Transient => {
                    if let Some(r) = self.retry_of(kind, si) {
                        r.schedule(now);
                    }
                }
            }
            self.core
                .route_error(kind, si, n.code, n.channel.as_str(), msg);
        }
        self.core.notes.clear();
    }

    /// A `*.system` notice: counted, logged, a [`StatusKind::VenueNotice`] to every consumer;
    /// `upgrade` on the public connection starts its make-before-break replacement.
    fn on_notice(&mut self, conn: ConnId, n: &super::ControlNote, now: u64, out: &mut Outbox<'_>) {
        Counters::add(&self.core.shared.stats.venue_notices, 1);
        let e = self.core.error(FeedErrorKind::VenueNotice);
        self.core.log_error(
            e.channel(n.channel.as_str())
                .arg(n.payload0.as_str())
                .detail(n.message.as_str()),
        );
        let private = Some(conn) == self.private.conn;
        let replace = !private
            && n.payload0.as_str() == "upgrade"
            && self.draining.is_none()
            && Some(conn) == self.public.conn;
        if replace {
            self.handover_wanted = true;
            self.start_handover(now, out);
        }
        self.core
            .broadcast_status(StatusKind::VenueNotice, now, replace as u64, private);
    }

    /// Open the replacement of the public connection (make-before-break); `on_open` subscribes
    /// it, [`Self::check_handover`] closes the old one.
    fn start_handover(&mut self, now: u64, out: &mut Outbox<'_>) {
        let (Some(old), Some(spec)) = (self.public.conn, self.public.spec) else {
            return;
        };
        if self.draining.is_none() && out.open(spec).is_some() {
            self.draining = Some((old, now));
            self.handover_wanted = false;
        }
    }

    /// Close the old public connection once every subscribed book is live on the new one (or
    /// the overlap reached [`HANDOVER_LIMIT_NS`]).
    fn check_handover(&mut self, now: u64, out: &mut Outbox<'_>) {
        let Some((old, since)) = self.draining else {
            if self.handover_wanted {
                self.start_handover(now, out);
            }
            return;
        };
        let replaced = self.public.conn.is_some_and(|c| c != old);
        let books_live = self
            .core
            .syms
            .iter()
            .all(|s| !s.subscribed[0] || s.book.state() == crate::types::BookState::Live);
        let expired = now.saturating_sub(since) > HANDOVER_LIMIT_NS;
        if replaced && (books_live || expired) {
            out.close(old);
            self.draining = None;
        } else if expired {
            // The replacement never came up: the old connection's own close (and reconnect)
            // takes over.
            self.draining = None;
        }
    }

    /// Send again what was transiently refused, when its backoff is over.
    fn check_retries(&mut self, now: u64, out: &mut Outbox<'_>) {
        for si in 0..self.retry.len() {
            for kind in PUBLIC_SLOTS {
                let k = public_index(kind);
                let r = &mut self.retry[si][k];
                if r.retry_at_ns == 0 || now < r.retry_at_ns {
                    continue;
                }
                r.retry_at_ns = 0;
                if !self.core.syms[si].subscribed[k] {
                    continue;
                }
                Counters::add(&self.core.shared.stats.sub_retries, 1);
                if kind == Kind::OrderBook {
                    self.watch[si].unsub_pending = false;
                    self.resubscribe_book(out, si);
                } else {
                    self.send_request(out, kind, Some(si), true);
                }
            }
        }
        for kind in Kind::PRIVATE {
            let r = &mut self.retry_private[public_index(kind)];
            if r.retry_at_ns != 0 && now >= r.retry_at_ns {
                r.retry_at_ns = 0;
                if self.core.private_routes[public_index(kind)] != 0 {
                    Counters::add(&self.core.shared.stats.sub_retries, 1);
                    self.send_request(out, kind, None, true);
                }
            }
        }
    }

    /// Every `Resyncing` book gets a deadline (`resync_timeout`, doubling per escalation):
    /// past it the book's stream is resubscribed; after [`RESUBSCRIBES_BEFORE_RECONNECT`]
    /// such retries the public connection is replaced. Not while the connection is down (the
    /// reconnect resyncs), nor for a permanently refused stream (reported already).
    fn check_resync_deadlines(&mut self, now: u64, out: &mut Outbox<'_>) {
        let timeout = self.setup.resync_timeout.as_nanos() as u64;
        let Some(conn) = self.public.conn else {
            return;
        };
        if timeout == 0 || !out.is_live(conn) || self.draining.is_some() {
            return;
        }
        let mut reconnect = false;
        let obu = self.setup.gate_obu;
        for si in 0..self.core.syms.len() {
            let book = &self.core.syms[si].book;
            let state = book.state();
            // An `order_book_update` book with nothing buffered and nothing asked for is
            // waiting for its stream's first change (a quiet market), not hung; `obu` always
            // starts with a `full` push right after the subscribe, so it is always watched.
            let waiting_for_data =
                !obu && book.buffered() == 0 && !book.request_in_flight() && !book.wants_snapshot();
            let w = &mut self.watch[si];
            if state == crate::types::BookState::Live {
                w.escalations = 0;
            }
            if state != crate::types::BookState::Resyncing
                || waiting_for_data
                || !self.core.syms[si].subscribed[0]
                || self.retry[si][0].refused
            {
                w.resyncing_since_ns = 0;
                continue;
            }
            if w.resyncing_since_ns == 0 {
                w.resyncing_since_ns = now;
                continue;
            }
            let limit = timeout << w.escalations.min(4);
            if now.saturating_sub(w.resyncing_since_ns) <= limit {
                continue;
            }
            w.escalations += 1;
            w.resyncing_since_ns = now;
            let escalation = w.escalations;
            Counters::add(&self.core.shared.stats.resync_timeouts, 1);
            let by_reconnect = escalation > RESUBSCRIBES_BEFORE_RECONNECT;
            let e = self.core.sym_error(FeedErrorKind::ResyncTimeout, Some(si));
            self.core
                .log_error(e.code(escalation as i64).detail(if by_reconnect {
                    "replacing the connection"
                } else {
                    "resubscribing its stream"
                }));
            if by_reconnect {
                reconnect = true;
                continue;
            }
            Counters::add(&self.core.shared.stats.sub_retries, 1);
            self.core.syms[si].book.reset(now);
            self.core.publish_state(si, now);
            self.watch[si].unsub_pending = false;
            self.resubscribe_book(out, si);
        }
        if reconnect {
            out.reconnect(conn);
        }
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
        // A new bind (or an unbind) starts the subscription's history over: a permanent
        // refusal is tried again once, a pending retry is dropped.
        if let Some(r) = self.retry_of(kind, si) {
            *r = SubRetry::default();
        }
        if let (Kind::OrderBook, Some(si)) = (kind, si) {
            self.watch[si] = BookWatch::default();
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
            if let Some((old, _)) = self.draining {
                if conn == old {
                    if self.public.conn != Some(old) {
                        // The replaced connection came back on its own: not needed any more.
                        out.close(conn);
                        return;
                    }
                } else {
                    // The make-before-break replacement after an `upgrade` notice: subscribe
                    // it; the books keep going (both connections carry the same counters, so
                    // what arrives twice is dropped as stale) and the old one is closed by
                    // `check_handover`.
                    self.public.conn = Some(conn);
                    Counters::add(&self.core.counters().reconnects, 1);
                    self.public.down_since_ns = None;
                    self.public.pong.arm(now_ns);
                    self.core
                        .broadcast_status(StatusKind::ConnUp, now_ns, 0, false);
                    self.subscribe_all_public(out);
                    return;
                }
            }
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
                self.core.private_gap(from, now_ns);
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
            self.handle_notes(conn, out);
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
        self.handle_replies(out);
        if !self.core.requests.is_empty() {
            self.handle_requests(out);
        }
        self.core.poll_recon();
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
            self.core.check_injected_gap(now);
            self.check_pongs(now, out);
            self.check_retries(now, out);
            self.check_resync_deadlines(now, out);
            self.check_handover(now, out);
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
        for kind in PUBLIC_SLOTS {
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
