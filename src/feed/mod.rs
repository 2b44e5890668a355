//! Feed threads: the glue between the network engine, a venue's decoder, book sync and the rings.
//!
//! One feed = one venue + market (`mexc.spot`, `gateio.spot`, `gateio.futures`) on one pinned
//! thread running a [`crate::net::Reactor`] whose handler is the venue's feed type
//! ([`gateio::GateFeed`], [`mexc::MexcFeed`]): static dispatch, each venue's protocol in one
//! place. Both embed a [`FeedCore`], the venue-agnostic part: symbols and their synced books,
//! routing of decoded messages to the consumers bound to them, metrics.
//!
//! ```text
//!  Reactor ─on_message─► <Venue>Feed ─decode─► FeedCore (Sink) ─► SyncedBook ─► Producer(s) ─► rings
//!              on_tick ─► commands (bind/unbind), pings, REST replies, idle checks, ring flush
//! ```
//!
//! Public and private streams are separate connections with separate state types inside each
//! venue feed (`*Public`, `*Private`): a public stream takes symbols, a private one is
//! account-wide. Commands from the [`crate::engine::Engine`] arrive through a bounded queue and are
//! handled on the feed thread in `on_tick` (cold path).

pub(crate) mod bench;
mod commands;
pub(crate) mod contracts;
pub(crate) mod errors;
pub(crate) mod gateio;
pub(crate) mod mexc;
mod pong;
pub(crate) mod recon;
pub(crate) mod retry;

pub(crate) use commands::BindingHook;
pub(crate) use commands::{Command, CommandQueue};
pub use errors::{ErrorLog, FeedError, FeedErrorKind};
pub(crate) use pong::PongWatch;

use crate::book::{SyncConfig, SyncOutcome, SyncRequest, SyncRule, SyncedBook};
use crate::channel::Kind;
use crate::event::*;
use crate::metrics::{Counters, HistRecorder};
use crate::ring::{
    Body, Event, Header, InlineStr, Producer, Pushed, StatusKind, FLAG_BOOK_REPLACED,
    FLAG_KLINE_INFERRED,
};
use crate::secret::Credentials;
use crate::types::{now_ns, BookState, Interval, Market, SymbolId, Venue};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The `Error` event's message when a private-state REST fetch failed (`feed::recon`; its
/// `channel` is the endpoint path, its `code` the HTTP status or the venue's code).
pub const RECON_FAILED_TEXT: &str = "private state REST failed; retried, gap open";

/// Maximum consumers (strategy rings) per feed: routes are `u64` bitmasks.
pub(crate) const MAX_CONSUMERS: usize = 64;

/// Everything a feed thread needs, resolved before it starts.
#[derive(Clone, Debug)]
pub struct FeedSetup {
    /// The exchange.
    pub venue: Venue,
    /// The market.
    pub market: Market,
    /// Public WebSocket URL.
    pub ws_url: String,
    /// Private WebSocket URL (MEXC: base, the listen key is appended).
    pub private_ws_url: String,
    /// REST base (`https://api.mexc.com`, `https://api.gateio.ws`).
    pub rest_url: String,
    /// Extra trusted CA (loopback venue, proxy). Web PKI roots are always trusted too.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// API key and secret for the private channels, if any.
    pub credentials: Option<Credentials>,
    /// Gate.io futures numeric user id.
    pub user_id: Option<u64>,
    /// Gate.io: book via `obu` (true) or `order_book_update` + REST (false).
    pub gate_obu: bool,
    /// Book depth: Gate obu 50/400, order_book_update level 20/50/100, MEXC REST limit.
    pub depth: u32,
    /// Update interval (`10ms`/`100ms`/`20ms`).
    pub interval: String,
    /// Core the feed thread is pinned to.
    pub core: Option<usize>,
    /// How the feed thread waits for readiness.
    pub wait: crate::net::WaitMode,
    /// WebSocket framing of the feed's connections (`runtime.framing`).
    pub framing: crate::net::Framing,
    /// Symbols this feed may carry (registered at start; ids are global).
    pub symbols: Vec<(SymbolId, String)>,
    /// Levels per side of each authoritative book (`runtime.book_depth`).
    pub book_levels: usize,
    /// Deltas buffered while a snapshot is in flight.
    pub sync_buffer: usize,
    /// Silence after which books go stale and the connection is replaced.
    pub idle_timeout: Duration,
    /// Largest WebSocket message accepted.
    pub max_message_bytes: usize,
    /// Kernel receive buffer; 0 = the OS default.
    pub so_rcvbuf: u32,
    /// App-level ping period (Gate ~10 s, MEXC ~20 s).
    pub ping_interval: Duration,
    /// Gate.io: a book `Resyncing` (subscribed, connection up) this long is escalated: its
    /// stream resubscribed (unsubscribe, wait for the ack, subscribe) with the deadline
    /// doubling, and after two such retries its connection replaced. Zero = never.
    pub resync_timeout: Duration,
    /// MEXC: connection age at which a replacement is opened (24 h on the real venue).
    pub rotate_after: Duration,
    /// MEXC: listen-key keep-alive period (30 min on the real venue).
    pub listen_key_keepalive: Duration,
}

/// A price in `STATUS_PX_DECIMALS` units for the status words: truncated, clamped to `u64`.
fn status_units(p: crate::types::Px) -> u64 {
    use crate::types::{PX_DECIMALS, STATUS_PX_DECIMALS};
    let div = 10i128.pow(PX_DECIMALS - STATUS_PX_DECIMALS);
    (p.0 / div).clamp(0, u64::MAX as i128) as u64
}

/// Per-symbol state that cold threads read (live view, report). Relaxed atomics.
#[derive(Debug, Default)]
pub struct SymbolStatus {
    /// [`BookState`] as its `u8` (see [`SymbolStatus::state`]).
    pub state: AtomicU8,
    /// The book's sequence after the last update.
    pub seq: AtomicU64,
    /// Best bid in units of 10^-[`crate::types::STATUS_PX_DECIMALS`] (0 = none), for display: truncated
    /// from the exact `Px` (16 decimals, `i128`) to fit one atomic word, saturating.
    pub best_bid_units: AtomicU64,
    /// Best ask, same unit as `best_bid_units` (0 = none).
    pub best_ask_units: AtomicU64,
    /// Book updates applied.
    pub updates: AtomicU64,
}

impl SymbolStatus {
    /// The book's state.
    pub fn state(&self) -> BookState {
        match self.state.load(Ordering::Relaxed) {
            0 => BookState::Live,
            2 => BookState::Stale,
            _ => BookState::Resyncing,
        }
    }
}

/// Feed-level counters beyond [`Counters`], read by cold threads.
#[derive(Debug, Default)]
pub struct FeedStats {
    /// Channel errors and rejections reported by the venue.
    pub channel_errors: AtomicU64,
    /// BBO updates dropped because the book was already newer.
    pub stale_bbo: AtomicU64,
    /// Messages naming a symbol this feed does not carry.
    pub unknown_symbol: AtomicU64,
    /// Private events delivered (orders, fills, balances, positions).
    pub private_events: [AtomicU64; 4],
    /// Subscriptions acknowledged.
    pub acks: AtomicU64,
    /// Application-level pongs received.
    pub pongs: AtomicU64,
    /// Authentication failures (Gate.io code 4, MEXC listen-key refusals).
    pub auth_failures: AtomicU64,
    /// Connections replaced because the venue stopped answering app-level pings.
    pub pong_timeouts: AtomicU64,
    /// Books that stayed `Resyncing` past their deadline and were escalated (resubscribed,
    /// or their connection replaced).
    pub resync_timeouts: AtomicU64,
    /// Subscriptions sent again after a transient refusal (or a resync escalation).
    pub sub_retries: AtomicU64,
    /// Informational notices from the venue (Gate.io `*.system`), not decode errors.
    pub venue_notices: AtomicU64,
    /// Private events delivered from the start-up state (flagged `FLAG_SNAPSHOT`).
    pub snapshot_events: AtomicU64,
    /// Private events delivered by the reconciliation of a gap (flagged `FLAG_RECONCILED`):
    /// what the stream missed.
    pub reconciled: AtomicU64,
    /// Private-stream gaps reported (`PrivateGap`) and not yet closed by a reconciliation
    /// (gauge).
    pub gaps_open: AtomicU64,
    /// Private-state REST fetches that failed (retried with backoff).
    pub recon_failures: AtomicU64,
    /// Private events dropped as already delivered (a stream repeat of a reconciled event, a
    /// REST state older than the stream's).
    pub private_duplicates: AtomicU64,
    /// MEXC: outbound frames dropped because the connection's bounded queue was full.
    pub outbound_dropped: AtomicU64,
}

/// What cold threads hold of a running feed.
pub struct FeedShared {
    /// The exchange.
    pub venue: Venue,
    /// The market.
    pub market: Market,
    /// The feed's event counters.
    pub counters: Arc<Counters>,
    /// Feed-level statistics (acks, errors, auth failures, pongs).
    pub stats: FeedStats,
    /// Indexed like [`FeedSetup::symbols`].
    pub symbols: Vec<(SymbolId, String, SymbolStatus)>,
    /// The feed's first errors as `Copy` records (bounded, lock-free).
    pub errors: ErrorLog,
    /// Set when the feed thread ended without being stopped (a panic, or the reactor's `poll`
    /// failed): nothing maintains its books any more. Read it with [`FeedShared::is_dead`].
    pub dead: AtomicBool,
    /// Test hook ([`crate::engine::Engine::inject_feed_panic`]): the feed thread panics at its
    /// next housekeeping tick (every 100 ms, cold path).
    #[doc(hidden)]
    pub panic_requested: AtomicBool,
    /// Test hook ([`crate::engine::Engine::inject_private_gap`]): at its next housekeeping
    /// tick the feed thread reports a 10 s private gap and reconciles it, as after a reconnect
    /// but without one (the no-alloc test measures the hand-off alone).
    #[doc(hidden)]
    pub gap_requested: AtomicBool,
}

impl FeedShared {
    /// Whether the feed thread has died (see [`FeedShared::dead`]).
    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    /// The feed thread is gone: flag it and mark every book non-live (`Stale`) for cold readers.
    /// Touches only atomics, so the unwinding thread (or the engine) can call it whatever state
    /// the feed's own structures were left in.
    pub(crate) fn mark_dead(&self) {
        self.dead.store(true, Ordering::Release);
        for (_, _, st) in &self.symbols {
            st.state.store(BookState::Stale as u8, Ordering::Relaxed);
        }
    }

    /// Test hook: called by the feed thread on its housekeeping tick.
    #[inline]
    pub(crate) fn check_injected_panic(&self) {
        if self.panic_requested.load(Ordering::Relaxed) {
            panic!("feed thread panic injected by a test");
        }
    }

    /// Every logged error as operator text (cold side: report, CLI).
    pub fn error_texts(&self) -> Vec<String> {
        self.errors.texts(|id| {
            self.symbols
                .iter()
                .find(|(i, _, _)| *i == id)
                .map(|(_, n, _)| n.clone())
        })
    }
}

/// A compact copy of a control frame, kept for the venue feed to act on after decoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ControlNote {
    pub kind: ControlKind,
    pub code: i64,
    pub req_id: Option<u64>,
    /// The answer is to an `unsubscribe` (Gate.io `event`).
    pub unsubscribe: bool,
    pub channel: InlineStr<64>,
    pub payload0: InlineStr<32>,
    pub message: InlineStr<96>,
    /// MEXC's permanent refusal (`Blocked!`), decided on the full text: `message` may be cut
    /// before the reason at its end.
    pub blocked: bool,
}

/// A full copy of a book, for reports and comparison with the venue (cold path).
#[derive(Debug, Clone)]
pub struct BookDump {
    /// The venue's symbol.
    pub symbol: String,
    /// The book's state at the end.
    pub state: BookState,
    /// The book's sequence at the end.
    pub seq: u64,
    /// Best first.
    pub bids: Vec<Level>,
    /// Ask levels, best first.
    pub asks: Vec<Level>,
}

pub(crate) struct Sym {
    pub id: SymbolId,
    pub name: String,
    pub book: SyncedBook,
    /// Consumers per public kind ([`PUBLIC_SLOTS`] order: `Kind::PUBLIC`, then one kline
    /// slot per interval).
    pub routes: [u64; PUBLIC_SLOTS.len()],
    /// Whether we asked the venue for this kind.
    pub subscribed: [bool; PUBLIC_SLOTS.len()],
    pub last_state: BookState,
    /// When a trade or book ticker of this symbol last arrived (CLOCK_MONOTONIC ns): evidence
    /// that its market moves, against which a silent depth channel is judged.
    pub last_market_ns: u64,
    /// Per interval: the last candle routed, and whether its window was delivered closed. A
    /// push of a later window closes an earlier one left open (see [`FeedCore::kline`]).
    pub kline_last: [Option<(Event, bool)>; Interval::COUNT],
}

/// Request ids that say what they asked for: `ID_BASE + private·100 000 + kind·1 000 + symbol`
/// (symbol 999 = none). Venue acks and errors echo the id, so an answer is routed to exactly the
/// consumers of that channel with no table to maintain.
pub(crate) const ID_BASE: u64 = 1_000_000;

pub(crate) fn encode_id(kind: Kind, si: Option<usize>) -> u64 {
    ID_BASE
        + (kind.is_private() as u64) * 100_000
        + public_index(kind) as u64 * 1_000
        + si.map(|s| s as u64).unwrap_or(999)
}

pub(crate) fn decode_id(id: u64) -> Option<(Kind, Option<usize>)> {
    let v = id.checked_sub(ID_BASE)?;
    let private = v / 100_000 == 1;
    let k = ((v % 100_000) / 1_000) as usize;
    let s = (v % 1_000) as usize;
    if v / 100_000 > 1 || (private && k > 3) || k >= PUBLIC_SLOTS.len() {
        return None;
    }
    let kind = if private {
        Kind::PRIVATE[k]
    } else {
        PUBLIC_SLOTS[k]
    };
    Some((kind, (s != 999).then_some(s)))
}

/// Every public subscription a symbol can have, in routing-table order: the four
/// `Kind::PUBLIC` kinds, then `Kind::Kline` of each interval (index `4 + interval`).
pub(crate) const PUBLIC_SLOTS: [Kind; 4 + Interval::COUNT] = {
    let mut t = [Kind::OrderBook; 4 + Interval::COUNT];
    let mut i = 0;
    while i < 4 {
        t[i] = Kind::PUBLIC[i];
        i += 1;
    }
    while i < t.len() {
        t[i] = Kind::Kline(Interval::ALL[i - 4]);
        i += 1;
    }
    t
};

/// Index of `kind` in its routing table: `PUBLIC_SLOTS` for public kinds, `Kind::PRIVATE`
/// for private ones.
pub(crate) fn public_index(kind: Kind) -> usize {
    match kind {
        Kind::Kline(iv) => 4 + iv.index(),
        Kind::OrderBook => 0,
        Kind::Trades => 1,
        Kind::Bbo => 2,
        Kind::Ticker => 3,
        Kind::Orders => 0,
        Kind::Fills => 1,
        Kind::Balances => 2,
        Kind::Positions => 3,
    }
}

/// The venue-agnostic part of a feed thread; implements [`Sink`] for the venue's decoder.
pub(crate) struct FeedCore {
    /// The exchange.
    pub venue: Venue,
    /// The market.
    pub market: Market,
    pub(crate) syms: Vec<Sym>,
    producers: Vec<Option<Producer>>,
    /// Consumers per private kind (`Kind::PRIVATE` order).
    pub(crate) private_routes: [u64; 4],
    pub shared: Arc<FeedShared>,
    pub decode_hist: HistRecorder,
    pub apply_hist: HistRecorder,
    pub ring_hist: HistRecorder,
    /// Receive time of the frame being decoded.
    pub recv_ns: u64,
    /// The frame being decoded carried a pong (see [`FeedCore::take_pong`]).
    pong_seen: bool,
    /// The frame just decoded was a venue's own ping (answer it).
    ping_seen: bool,
    /// Sync requests raised while decoding: (symbol index, request). Fixed capacity.
    pub(crate) requests: Vec<(usize, SyncRequest)>,
    /// Control frames seen while decoding. Fixed capacity; overflow dropped.
    pub(crate) notes: Vec<ControlNote>,
    /// The private feed's reconciler (start-up state, gap reconciliation; `recon`), when the
    /// feed has credentials.
    pub(crate) recon: Option<recon::ReconLink>,
}

impl FeedCore {
    pub(crate) fn new(
        setup: &FeedSetup,
        rule: SyncRule,
        shared: Arc<FeedShared>,
        decode_hist: HistRecorder,
        apply_hist: HistRecorder,
        ring_hist: HistRecorder,
    ) -> FeedCore {
        let mut sync_cfg = SyncConfig::new(rule);
        sync_cfg.levels_per_side = setup.book_levels;
        sync_cfg.max_buffered_deltas = setup.sync_buffer;
        sync_cfg.max_buffered_levels = setup.sync_buffer * 64;
        let syms = setup
            .symbols
            .iter()
            .map(|(id, name)| Sym {
                id: *id,
                name: name.clone(),
                book: SyncedBook::new(&sync_cfg),
                routes: [0; PUBLIC_SLOTS.len()],
                subscribed: [false; PUBLIC_SLOTS.len()],
                last_state: BookState::Resyncing,
                last_market_ns: 0,
                kline_last: [None; Interval::COUNT],
            })
            .collect();
        FeedCore {
            venue: setup.venue,
            market: setup.market,
            syms,
            producers: (0..MAX_CONSUMERS).map(|_| None).collect(),
            private_routes: [0; 4],
            shared,
            decode_hist,
            apply_hist,
            ring_hist,
            recv_ns: 0,
            pong_seen: false,
            ping_seen: false,
            requests: Vec::with_capacity(256),
            notes: Vec::with_capacity(64),
            recon: None,
        }
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.shared.counters
    }

    #[inline]
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.syms.iter().position(|s| s.name == name)
    }

    pub(crate) fn find_id(&self, id: SymbolId) -> Option<usize> {
        self.syms.iter().position(|s| s.id == id)
    }

    #[inline]
    fn header(&self, symbol: SymbolId, state: BookState) -> Header {
        let mut h = Header::new(self.venue, self.market, symbol, self.recv_ns);
        h.state = state;
        h
    }

    /// Push `ev` to every consumer in `mask`; records wire-to-ring once per event.
    #[inline]
    fn route(&mut self, mask: u64, ev: Event) {
        let mut m = mask;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            if let Some(p) = self.producers[i].as_mut() {
                p.push(ev);
            }
        }
        if mask != 0 && self.recv_ns != 0 {
            self.ring_hist.record(now_ns().saturating_sub(self.recv_ns));
        }
    }

    fn publish_book(&mut self, si: usize, replaced: bool) {
        let sym = &self.syms[si];
        let mask = sym.routes[0];
        let status = &self.shared.symbols[si].2;
        if let (Some(b), Some(a)) = (sym.book.book().best_bid(), sym.book.book().best_ask()) {
            status
                .best_bid_units
                .store(status_units(b.px), Ordering::Relaxed);
            status
                .best_ask_units
                .store(status_units(a.px), Ordering::Relaxed);
        }
        status.seq.store(sym.book.seq(), Ordering::Relaxed);
        status.updates.fetch_add(1, Ordering::Relaxed);
        if mask == 0 {
            return;
        }
        let mut h = self.header(sym.id, sym.book.state());
        h.seq = sym.book.seq();
        if replaced {
            h.flags |= FLAG_BOOK_REPLACED;
        }
        let mut m = mask;
        // The ring's own stamp of the last push that entered a ring (one clock read less
        // per update than reading the clock again here); the clock if none did.
        let mut stamp = 0;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            if let Some(p) = self.producers[i].as_mut() {
                if p.publish_book(h, self.syms[si].book.book()) == Pushed::Sent {
                    stamp = p.last_stamp_ns();
                }
            }
        }
        if self.recv_ns != 0 {
            let t = if stamp != 0 { stamp } else { now_ns() };
            self.ring_hist.record(t.saturating_sub(self.recv_ns));
        }
    }

    /// Publish a state change of a symbol's book (to its orderbook and bbo consumers).
    pub(crate) fn publish_state(&mut self, si: usize, now: u64) {
        let state = self.syms[si].book.state();
        if state == self.syms[si].last_state {
            return;
        }
        self.syms[si].last_state = state;
        self.shared.symbols[si]
            .2
            .state
            .store(state as u8, Ordering::Relaxed);
        let mut h = self.header(self.syms[si].id, state);
        h.seq = self.syms[si].book.seq();
        let ev = Event::status(h, StatusKind::Book, now, 0);
        let mask = self.syms[si].routes[0] | self.syms[si].routes[2];
        self.route(mask, ev);
    }

    /// After a sync input: publish, count, collect requests, publish state changes.
    fn after_sync(&mut self, si: usize, out: SyncOutcome, now: u64) {
        if out.book_changed() {
            self.publish_book(si, out == SyncOutcome::Replaced);
        }
        let c = &self.shared.counters;
        if out.is_resync() {
            if matches!(out, SyncOutcome::Gap { .. }) {
                Counters::add(&c.gaps, 1);
            }
            Counters::add(&c.resyncs, 1);
        }
        while let Some(req) = self.syms[si].book.take_request(now) {
            if self.requests.len() < self.requests.capacity() {
                self.requests.push((si, req));
            }
        }
        self.publish_state(si, now);
    }

    /// Every book of this feed goes back to resyncing (reconnect) and consumers are told.
    pub(crate) fn reset_books(&mut self, now: u64) {
        for si in 0..self.syms.len() {
            self.syms[si].book.reset(now);
            self.publish_state(si, now);
        }
    }

    /// The connection went silent (idle timeout): every book is stale until the reconnect
    /// resyncs it, and consumers are told.
    pub(crate) fn mark_all_stale(&mut self, now: u64) {
        for si in 0..self.syms.len() {
            self.syms[si].book.mark_stale(now);
            self.publish_state(si, now);
        }
    }

    /// Mark books stale when their stream has been silent for `idle_ns` (the rule for a
    /// channel that pushes on an interval: Gate.io books).
    pub(crate) fn check_idle(&mut self, now: u64, idle_ns: u64) {
        self.check_idle_alive(now, idle_ns, |_, _| 0);
    }

    /// Mark books stale when their stream has been silent for `idle_ns` **and** the connection
    /// carrying them has shown no sign of life (`alive_ns(si)`: its last pong) for as long: the
    /// rule for a channel that pushes only on change (MEXC aggregated depth), where a quiet
    /// book on a connection that answers its pings is healthy, while a connection that stays
    /// open but answers nothing still turns its books stale.
    pub(crate) fn check_idle_alive(
        &mut self,
        now: u64,
        idle_ns: u64,
        alive_ns: impl Fn(usize, &Sym) -> u64,
    ) {
        for si in 0..self.syms.len() {
            if self.syms[si].subscribed[0]
                && now.saturating_sub(alive_ns(si, &self.syms[si])) > idle_ns
                && self.syms[si].book.check_idle(now, idle_ns)
            {
                self.publish_state(si, now);
            }
        }
    }

    /// Route a status event to every consumer of this feed.
    pub(crate) fn broadcast_status(
        &mut self,
        kind: StatusKind,
        from_ns: u64,
        to_ns: u64,
        private: bool,
    ) {
        let mut mask = 0u64;
        if private {
            for m in self.private_routes {
                mask |= m;
            }
        } else {
            for s in &self.syms {
                for m in s.routes {
                    mask |= m;
                }
            }
        }
        let h = Header::new(self.venue, self.market, crate::ring::NO_SYMBOL, now_ns());
        self.route(mask, Event::status(h, kind, from_ns, to_ns));
    }

    /// Route a venue error for a channel to its consumers.
    pub(crate) fn route_error(
        &mut self,
        kind: Kind,
        si: Option<usize>,
        code: i64,
        channel: &str,
        msg: &str,
    ) {
        let (mask, sym) = match (kind.is_private(), si) {
            (true, _) => (
                self.private_routes[public_index(kind)],
                crate::ring::NO_SYMBOL,
            ),
            (false, Some(si)) => match self.syms.get(si) {
                Some(s) => (s.routes[public_index(kind)], s.id),
                None => (0, crate::ring::NO_SYMBOL),
            },
            (false, None) => (0, crate::ring::NO_SYMBOL),
        };
        Counters::add(&self.shared.stats.channel_errors, 1);
        let h = self.header(sym, BookState::Live);
        self.route(mask, Event::error(h, code, channel, msg));
    }

    /// What a request id echoed by the venue asked for, with the symbol index checked against
    /// this feed's symbols: an id we never sent (a symbol index we do not have) keeps its kind
    /// but loses the symbol, and is counted in `unknown_symbol`. Every id that comes back from
    /// the wire goes through here, never through [`decode_id`] alone.
    pub(crate) fn target_of_id(&self, id: u64) -> Option<(Kind, Option<usize>)> {
        let (kind, si) = decode_id(id)?;
        match si {
            Some(i) if i >= self.syms.len() => {
                Counters::add(&self.shared.stats.unknown_symbol, 1);
                Some((kind, None))
            }
            _ => Some((kind, si)),
        }
    }

    /// Post-mortem, on the feed thread after its loop died (cold): take the consumers still
    /// queued as commands, mark every book stale (a `Book` status to its consumers), and push
    /// [`StatusKind::FeedDown`] to every consumer of this feed. The producers live here, so
    /// this is the one place that can still reach the rings.
    pub(crate) fn feed_down(&mut self, commands: &CommandQueue, now: u64) {
        while let Some(cmd) = commands.pop() {
            if let Command::AddConsumer { consumer, producer } = cmd {
                self.add_consumer(consumer, producer);
            }
        }
        for si in 0..self.syms.len() {
            self.syms[si].book.mark_stale(now);
            self.publish_state(si, now);
        }
        let h = Header::new(self.venue, self.market, crate::ring::NO_SYMBOL, now);
        let ev = Event::status(h, StatusKind::FeedDown, now, 0);
        for p in self.producers.iter_mut().flatten() {
            // Last: a book update still held behind a full ring must not follow it.
            p.push_last(ev);
            p.flush();
            p.notify();
        }
    }

    /// A new error record of this feed, stamped now.
    pub(crate) fn error(&self, kind: FeedErrorKind) -> FeedError {
        FeedError::new(kind, self.venue, self.market, now_ns())
    }

    /// A new error record about symbol index `si` (none if `si` is not one of ours).
    pub(crate) fn sym_error(&self, kind: FeedErrorKind, si: Option<usize>) -> FeedError {
        let id = si.and_then(|si| self.syms.get(si)).map(|s| s.id);
        self.error(kind)
            .symbol(id.unwrap_or(crate::ring::NO_SYMBOL))
    }

    /// Hand an error to the cold side (no allocation, no lock).
    pub(crate) fn log_error(&self, e: FeedError) {
        self.shared.errors.push(e);
    }

    /// Once per loop turn: retry held book updates, then wake parked consumers that were
    /// given something this turn.
    pub(crate) fn flush_rings(&mut self) {
        for p in self.producers.iter_mut().flatten() {
            p.flush();
            p.notify();
        }
    }

    /// Every consumer ring has nothing held back and `n` free slots (replay back-pressure).
    pub(crate) fn rings_have_room(&mut self, n: usize) -> bool {
        self.flush_rings();
        self.producers.iter_mut().flatten().all(|p| p.has_room(n))
    }

    pub(crate) fn ring_overruns(&self) -> (u64, u64, u64) {
        let mut d = (0, 0, 0);
        for p in self.producers.iter().flatten() {
            let s = p.stats();
            d.0 += s.dropped;
            d.1 += s.conflated;
            d.2 += s.sent;
        }
        d
    }

    pub(crate) fn add_consumer(&mut self, consumer: usize, producer: Producer) {
        if consumer < MAX_CONSUMERS {
            self.producers[consumer] = Some(producer);
        }
    }

    /// Apply a bind/unbind to the routing tables. Returns whether the venue subscription must
    /// change: `Some(true)` subscribe, `Some(false)` unsubscribe, `None` nothing.
    pub(crate) fn apply_binding(
        &mut self,
        kind: Kind,
        symbol: Option<SymbolId>,
        consumer: usize,
        bind: bool,
    ) -> Option<(Option<usize>, bool)> {
        let bit = 1u64 << consumer.min(63);
        let k = public_index(kind);
        let slot: &mut u64 = if kind.is_private() {
            &mut self.private_routes[k]
        } else {
            let si = self.find_id(symbol?)?;
            &mut self.syms[si].routes[k]
        };
        let before = *slot != 0;
        if bind {
            *slot |= bit;
        } else {
            *slot &= !bit;
        }
        if bind && kind.is_private() {
            // First private bind: the start-up state (orders, balances, positions) is fetched
            // and the stream held until it is delivered (`recon`).
            if let Some(r) = self.recon.as_mut() {
                r.request_startup(now_ns());
            }
        }
        let after = *slot != 0;
        let si = if kind.is_private() {
            None
        } else {
            symbol.and_then(|id| self.find_id(id))
        };
        match (before, after) {
            (false, true) => Some((si, true)),
            (true, false) => Some((si, false)),
            _ => None,
        }
    }

    /// Full copies of every book (cold path: reports, comparison with the venue).
    pub(crate) fn dump_books(&self) -> Vec<BookDump> {
        self.syms
            .iter()
            .map(|s| {
                let mut bids: Vec<Level> = s.book.book().bids_worst_first().to_vec();
                bids.reverse();
                let mut asks: Vec<Level> = s.book.book().asks_worst_first().to_vec();
                asks.reverse();
                BookDump {
                    symbol: s.name.clone(),
                    state: s.book.state(),
                    seq: s.book.seq(),
                    bids,
                    asks,
                }
            })
            .collect()
    }

    /// Apply a REST snapshot of symbol `si` (the venue feed's reply path calls this; stream
    /// pushes go through [`Sink::book`] as deltas). Publishes and raises requests like a delta.
    pub(crate) fn apply_snapshot(&mut self, si: usize, m: &BookMsg<'_>) {
        if !self.syms[si].subscribed[0] {
            // Fetched before the book was unbound: it must not bring the book back.
            return;
        }
        let t0 = now_ns();
        let out = self.syms[si].book.on_snapshot(m, t0);
        self.apply_hist.record(now_ns().saturating_sub(t0));
        self.after_sync(si, out, t0);
    }

    /// A [`Sink`] for a decoder that delivers a REST snapshot of symbol `si` as a `BookMsg`:
    /// its book goes to [`FeedCore::apply_snapshot`].
    pub(crate) fn snapshot_sink(&mut self, si: usize) -> SnapshotSink<'_> {
        SnapshotSink { core: self, si }
    }

    fn note(&mut self, m: &ControlMsg<'_>) {
        if self.notes.len() == self.notes.capacity() {
            return;
        }
        self.notes.push(ControlNote {
            kind: m.kind,
            code: m.code.unwrap_or(0),
            req_id: m.req_id,
            unsubscribe: m.event == Some("unsubscribe"),
            channel: InlineStr::new(m.channel.unwrap_or("")).0,
            payload0: InlineStr::new(m.payload0.unwrap_or("")).0,
            message: InlineStr::new(m.message.unwrap_or("")).0,
            blocked: crate::exchange::mexc::refusal_is_permanent(
                m.code.unwrap_or(0),
                m.message.unwrap_or(""),
            ),
        });
    }

    fn private(&mut self, k: usize, ev: Event) {
        if let Some(r) = self.recon.as_mut() {
            if r.holding {
                r.hold(k, ev, self.recv_ns);
                return;
            }
            if !r.admit_stream(k, &ev, self.recv_ns, self.recv_ns) {
                Counters::add(&self.shared.stats.private_duplicates, 1);
                return;
            }
        }
        self.deliver_private(k, ev);
    }

    fn deliver_private(&mut self, k: usize, ev: Event) {
        Counters::add(&self.shared.stats.private_events[k], 1);
        let mask = self.private_routes[k];
        self.route(mask, ev);
    }

    /// The private stream was down from `from_ns` to `to_ns`: a `PrivateGap` to the private
    /// consumers, and its reconciliation queued (`recon`).
    pub(crate) fn private_gap(&mut self, from_ns: u64, to_ns: u64) {
        self.broadcast_status(StatusKind::PrivateGap, from_ns, to_ns, true);
        if let Some(r) = self.recon.as_mut() {
            r.open_gap(from_ns, now_ns());
            self.shared
                .stats
                .gaps_open
                .store(r.gaps_open(), Ordering::Relaxed);
        }
    }

    /// Test hook: a requested gap (`FeedShared::gap_requested`) is reported and reconciled.
    pub(crate) fn check_injected_gap(&mut self, now: u64) {
        if self.shared.gap_requested.swap(false, Ordering::Relaxed) {
            self.private_gap(now.saturating_sub(10_000_000_000), now);
            self.private_live();
        }
    }

    /// A private subscription was acknowledged: the reconciler's pending jobs may go.
    pub(crate) fn private_live(&mut self) {
        if let Some(r) = self.recon.as_mut() {
            r.on_live();
        }
    }

    /// Deliver what the reconciler has ready (called from `on_tick`; a bounded amount per
    /// call). Allocation-free: `Copy` records popped from a preallocated queue.
    pub(crate) fn poll_recon(&mut self) {
        let Some(mut r) = self.recon.take() else {
            return;
        };
        let now = now_ns();
        let lost = r.poll(now, 512, &mut |step| match step {
            recon::Step::Deliver(k, ev) => {
                // Held stream events (replayed after the start-up state) carry neither flag.
                let f = ev.header.flags;
                if f & crate::ring::FLAG_SNAPSHOT != 0 {
                    Counters::add(&self.shared.stats.snapshot_events, 1);
                } else if f & crate::ring::FLAG_RECONCILED != 0 {
                    Counters::add(&self.shared.stats.reconciled, 1);
                }
                self.deliver_private(k, ev);
            }
            recon::Step::Status(kind, from, to) => self.broadcast_status(kind, from, to, true),
            recon::Step::Failed(e) => {
                Counters::add(&self.shared.stats.recon_failures, 1);
                self.log_error(e);
                // The strategy is told too: its private state may be incomplete until the
                // `PrivateSnapshot` / `PrivateGapClosed` that a later try brings.
                let mut mask = 0u64;
                for m in self.private_routes {
                    mask |= m;
                }
                let h = Header::new(self.venue, self.market, crate::ring::NO_SYMBOL, now);
                let ev = Event::error(h, e.code, e.arg.as_str(), RECON_FAILED_TEXT);
                self.route(mask, ev);
            }
        });
        self.recon = Some(r);
        if let Some(from) = lost {
            // The start-up hold overflowed: that span is a gap, reconciled at once (the
            // stream is live: its subscriptions were acknowledged before the state came).
            self.private_gap(from, now);
            self.private_live();
        }
        if let Some(r) = self.recon.as_ref() {
            self.shared
                .stats
                .gaps_open
                .store(r.gaps_open(), Ordering::Relaxed);
        }
    }
}

impl Sink for FeedCore {
    #[inline]
    fn book(&mut self, m: &BookMsg<'_>) {
        let Some(si) = self.find(m.symbol) else {
            Counters::add(&self.shared.stats.unknown_symbol, 1);
            return;
        };
        if !self.syms[si].subscribed[0] {
            // A push still in flight when the book was unbound: applying it would start a
            // resync and bring an unsubscribed book back to `Live` (then stale).
            return;
        }
        let t0 = now_ns();
        let out = self.syms[si].book.on_delta(m, t0);
        self.apply_hist.record(now_ns().saturating_sub(t0));
        self.after_sync(si, out, t0);
    }

    #[inline]
    fn trade(&mut self, m: &TradeMsg<'_>) {
        let Some(si) = self.find(m.symbol) else {
            Counters::add(&self.shared.stats.unknown_symbol, 1);
            return;
        };
        self.syms[si].last_market_ns = self.recv_ns;
        let mask = self.syms[si].routes[1];
        if mask != 0 {
            let ev = Event::trade(self.header(self.syms[si].id, BookState::Live), m);
            self.route(mask, ev);
        }
    }

    #[inline]
    fn bbo(&mut self, m: &BboMsg<'_>) {
        let Some(si) = self.find(m.symbol) else {
            Counters::add(&self.shared.stats.unknown_symbol, 1);
            return;
        };
        self.syms[si].last_market_ns = self.recv_ns;
        let sym = &self.syms[si];
        // Never let a stale book ticker overwrite a newer book top: both share the update id.
        if let Some(seq) = m.seq {
            if sym.book.state() == BookState::Live && seq < sym.book.seq() {
                Counters::add(&self.shared.stats.stale_bbo, 1);
                return;
            }
        }
        let mask = sym.routes[2];
        if mask != 0 {
            let mut h = self.header(sym.id, sym.book.state());
            h.seq = m.seq.unwrap_or(0);
            let ev = Event::bbo(h, m);
            self.route(mask, ev);
        }
    }

    #[inline]
    fn ticker(&mut self, m: &TickerMsg<'_>) {
        let Some(si) = self.find(m.symbol) else {
            Counters::add(&self.shared.stats.unknown_symbol, 1);
            return;
        };
        let mask = self.syms[si].routes[3];
        if mask != 0 {
            let ev = Event::ticker(self.header(self.syms[si].id, BookState::Live), m);
            self.route(mask, ev);
        }
    }

    fn order(&mut self, m: &OrderMsg<'_>) {
        let sym = self
            .find(m.symbol)
            .map(|i| self.syms[i].id)
            .unwrap_or(crate::ring::NO_SYMBOL);
        let ev = Event::order(self.header(sym, BookState::Live), m);
        self.private(0, ev);
    }

    fn fill(&mut self, m: &FillMsg<'_>) {
        let sym = self
            .find(m.symbol)
            .map(|i| self.syms[i].id)
            .unwrap_or(crate::ring::NO_SYMBOL);
        let ev = Event::fill(self.header(sym, BookState::Live), m);
        self.private(1, ev);
    }

    fn balance(&mut self, m: &BalanceMsg<'_>) {
        let ev = Event::balance(self.header(crate::ring::NO_SYMBOL, BookState::Live), m);
        self.private(2, ev);
    }

    fn position(&mut self, m: &PositionMsg<'_>) {
        let sym = self
            .find(m.contract)
            .map(|i| self.syms[i].id)
            .unwrap_or(crate::ring::NO_SYMBOL);
        let ev = Event::position(self.header(sym, BookState::Live), m);
        self.private(3, ev);
    }

    /// Routes the candle. A window left open (no push with `closed`: MEXC never marks one,
    /// Gate's `w` "may be missing") is closed when a later window's first push arrives: its last
    /// routed state goes out again with `closed` and `FLAG_KLINE_INFERRED` set, before the new
    /// window (what clients do with Gate's missing `w`: "received the next minute's data").
    #[inline]
    fn kline(&mut self, m: &KlineMsg<'_>) {
        let Some(si) = self.find(m.symbol) else {
            Counters::add(&self.shared.stats.unknown_symbol, 1);
            return;
        };
        let mask = self.syms[si].routes[public_index(Kind::Kline(m.interval))];
        if mask == 0 {
            self.syms[si].kline_last[m.interval.index()] = None;
            return;
        }
        let ev = Event::kline(self.header(self.syms[si].id, BookState::Live), m);
        let slot = &mut self.syms[si].kline_last[m.interval.index()];
        let mut inferred = None;
        match slot {
            Some((prev, closed_sent)) => {
                let prev_open = match prev.body {
                    Body::Kline { open_time_ms, .. } => open_time_ms,
                    _ => i64::MIN,
                };
                if m.open_time_ms > prev_open {
                    if !*closed_sent {
                        let mut e = *prev;
                        if let Body::Kline { closed, .. } = &mut e.body {
                            *closed = true;
                        }
                        e.header.flags |= FLAG_KLINE_INFERRED;
                        e.header.ts_recv_ns = self.recv_ns;
                        inferred = Some(e);
                    }
                    *slot = Some((ev, m.closed));
                } else if m.open_time_ms == prev_open {
                    *slot = Some((ev, *closed_sent || m.closed));
                }
                // An older window (a late final push): routed as is, the slot keeps the newer.
            }
            None => *slot = Some((ev, m.closed)),
        }
        if let Some(e) = inferred {
            self.route(mask, e);
        }
        self.route(mask, ev);
    }

    fn control(&mut self, m: &ControlMsg<'_>) {
        match m.kind {
            ControlKind::Pong => {
                Counters::add(&self.shared.stats.pongs, 1);
                self.pong_seen = true;
            }
            ControlKind::Ack => Counters::add(&self.shared.stats.acks, 1),
            ControlKind::Ping => {
                // Answered by the venue handler; not a note for the consumers.
                self.ping_seen = true;
                return;
            }
            _ => {}
        }
        self.note(m);
    }
}

/// See [`FeedCore::snapshot_sink`]: only books are expected from a REST snapshot body.
pub(crate) struct SnapshotSink<'a> {
    core: &'a mut FeedCore,
    si: usize,
}

impl Sink for SnapshotSink<'_> {
    fn book(&mut self, m: &BookMsg<'_>) {
        self.core.apply_snapshot(self.si, m);
    }
}

pub(crate) fn new_shared(setup: &FeedSetup, counters: Arc<Counters>) -> Arc<FeedShared> {
    Arc::new(FeedShared {
        venue: setup.venue,
        market: setup.market,
        counters,
        stats: FeedStats::default(),
        symbols: setup
            .symbols
            .iter()
            .map(|(id, n)| {
                let st = SymbolStatus::default();
                st.state
                    .store(BookState::Resyncing as u8, Ordering::Relaxed);
                (*id, n.clone(), st)
            })
            .collect(),
        errors: ErrorLog::default(),
        dead: AtomicBool::new(false),
        panic_requested: AtomicBool::new(false),
        gap_requested: AtomicBool::new(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::{channel, RingConfig};
    use crate::types::{Px, Qty};

    fn core() -> (FeedCore, crate::ring::Consumer, SymbolId) {
        let cfg = crate::config::Config::from_toml(
            "[[feed]]\nvenue = \"gateio\"\nmarket = \"spot\"\nsymbols = [\"BTC_USDT\"]\nws_url = \"ws://127.0.0.1:1/ws/v4/\"\nrest_url = \"http://127.0.0.1:1\"\n",
            "test",
        )
        .unwrap();
        let setup = cfg.resolve().unwrap().engine.feeds.remove(0);
        let (rec, _col) = crate::metrics::new();
        let shared = new_shared(&setup, rec.counters.clone());
        let mut c = FeedCore::new(
            &setup,
            SyncRule::GateObu,
            shared,
            rec.decode,
            rec.book_apply,
            rec.wire_to_ring,
        );
        let (p, rx) = channel(&RingConfig::default());
        c.add_consumer(0, p);
        let id = setup.symbols[0].0;
        c.apply_binding(Kind::Kline(Interval::M1), Some(id), 0, true);
        (c, rx, id)
    }

    fn candle(open_time_ms: i64, close: i64, closed: bool) -> KlineMsg<'static> {
        KlineMsg {
            symbol: "BTC_USDT",
            interval: Interval::M1,
            open_time_ms,
            open: Px::from_int(1),
            high: Px::from_int(close.max(1)),
            low: Px::from_int(1),
            close: Px::from_int(close),
            volume: Qty::from_int(2),
            quote_volume: None,
            base_volume: None,
            closed,
            ts_exchange_ms: None,
        }
    }

    fn drain(rx: &mut crate::ring::Consumer) -> Vec<(i64, i64, bool, bool)> {
        let mut v = Vec::new();
        while let Some(ev) = rx.try_recv() {
            if let Body::Kline {
                open_time_ms,
                close,
                closed,
                ..
            } = ev.body
            {
                v.push((
                    open_time_ms,
                    (close.0 / Px::from_int(1).0) as i64,
                    closed,
                    ev.header.flags & FLAG_KLINE_INFERRED != 0,
                ));
            }
        }
        v
    }

    /// Issue 17: a window left open (MEXC sends no closed flag; Gate's `w` may be missing) is
    /// closed, flagged inferred, with its last state when the next window's first push comes;
    /// a window the venue closed itself is not closed twice; an older window's late push is
    /// routed as is.
    #[test]
    fn issue17_kline_window_left_open_is_closed_by_the_next_window() {
        let (mut c, mut rx, _) = core();
        c.kline(&candle(60_000, 5, false));
        c.kline(&candle(60_000, 7, false));
        c.kline(&candle(120_000, 8, false));
        assert_eq!(
            drain(&mut rx),
            vec![
                (60_000, 5, false, false),
                (60_000, 7, false, false),
                (60_000, 7, true, true),
                (120_000, 8, false, false),
            ]
        );
        // The venue closes 120 000 itself: no inferred close when 180 000 opens.
        c.kline(&candle(120_000, 9, true));
        c.kline(&candle(180_000, 1, false));
        // A late push of an older window passes through and does not move the slot back.
        c.kline(&candle(120_000, 9, true));
        c.kline(&candle(240_000, 2, false));
        assert_eq!(
            drain(&mut rx),
            vec![
                (120_000, 9, true, false),
                (180_000, 1, false, false),
                (120_000, 9, true, false),
                (180_000, 1, true, true),
                (240_000, 2, false, false),
            ]
        );
    }
}
