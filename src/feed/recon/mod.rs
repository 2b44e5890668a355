//! Private state, complete (issue 17): the start-up state and the reconciliation of every
//! private-stream gap over signed REST, on a control thread of the feed's own (the
//! *reconciler*), never on the feed thread.
//!
//! ```text
//!  feed thread                                   reconciler thread (blocking, own ControlThread)
//!  first private bind, then its subscription acknowledged (`on_live`)
//!                     ── Job::Startup ─────────► open orders, balances (+ futures positions)
//!  PrivateGap{from,to}, then re-subscribed (`on_live`)
//!                     ── Job::Gap{from_ms} ───► open orders, my trades since from, balances,
//!                                                (+ positions); paced; retried with backoff
//!  poll_recon (on_tick) ◄── Begin, Event…, End ── events built off the feed thread (Copy)
//!   └ Ledger: de-duplicate against the stream ─► rings (flagged SNAPSHOT / RECONCILED)
//!     then StatusKind::PrivateSnapshot / PrivateGapClosed
//! ```
//!
//! Hand-off: both directions are preallocated `ArrayQueue`s of `Copy` records (a `Job`, an
//! [`Out`] holding a 192-byte [`Event`]); the feed thread pops and routes them like decoded
//! events, so nothing is allocated on it. JSON parsing, signing, URL building and the sort into
//! time order all happen on the reconciler thread.
//!
//! Jobs are sent when a private subscription is acknowledged (`FeedCore::private_live`), not
//! before: a REST answer taken before the stream delivers would leave a hole between the two.
//!
//! Start-up: when a private channel is first bound the feed asks for the state and *holds*
//! the stream's private events (bounded, [`HELD_CAP`]) until the state is delivered; then the
//! held events are applied on top in order, through the [`ledger::Ledger`] (an order update
//! not newer than the snapshot's state is dropped; a balance or position received before the
//! fetch started is older than the snapshot and dropped). A hold that overflows becomes a gap.
//!
//! Gaps: every `PrivateGap` the venue handlers report opens a gap (`FeedStats::gaps_open`)
//! and queues a reconciliation of the window from its start (less [`WINDOW_MARGIN_MS`] for
//! clock skew: duplicates are removed anyway). Gaps queued while one is fetched are merged
//! (earliest start). What the answer holds that the stream did not deliver goes out flagged
//! [`FLAG_RECONCILED`], in time order (fills and orders by time, then balances, positions);
//! orders believed open that the venue no longer lists are closed from their fills
//! ([`ledger::Ledger::close_unlisted`]); then one `PrivateGapClosed` per gap covered. A
//! failed fetch (transport, HTTP status, body) is logged (`FeedErrorKind::ReconFailed`,
//! counted `recon_failures`), retried after 1 s doubling to 60 s, and the gap stays open.
//!
//! Rate limits: calls are paced per feed, one at a time and the next at least [`GATE_PACE`]
//! after the previous answer (Gate.io APIv4: private endpoints allow 200 requests / 10 s per
//! UID and endpoint — Gate "Rate Limit" docs, as summarised in api-evangelist/gate-io
//! `rate-limits/gate-io-rate-limits.yml`; ≤ 10 calls/s over all endpoints stays under it) or
//! [`MEXC_PACE`] (MEXC spot v3: signed endpoints 500 requests / 10 s per endpoint and UID,
//! protocols.md §1.9; and 500 weight / 10 s per UID with `myTrades`/`account` weighing 10 —
//! api-evangelist/mexc `rate-limits`, from mexcdevelop spot_v3 "Limits" — so 4 calls/s stay
//! under both).

pub(crate) mod ledger;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;

use crate::event::{BalanceMsg, FillMsg, OrderMsg, PositionMsg, Sink};
use crate::exchange::{gateio, mexc, AccountBodyError};
use crate::net::{
    ControlClient, ControlConfig, ControlError, ControlThread, HttpMethod, HttpRequest, NetError,
};
use crate::ring::{Body, Event, Header, FLAG_RECONCILED, FLAG_SNAPSHOT, NO_SYMBOL};
use crate::secret::Credentials;
use crate::types::{now_ns, wall_ms, Market, SymbolId, Venue};

use super::errors::{FeedError, FeedErrorKind};
use ledger::Ledger;

/// Stream events held while the start-up state is fetched; beyond, they are dropped and the
/// span becomes a gap (reconciled after the snapshot).
pub(crate) const HELD_CAP: usize = 1024;
/// Events a batch may carry through the queue at once (the reconciler waits for room).
const OUT_CAP: usize = 4096;
/// The reconciler fetches this long after a job arrives: the first acknowledgement of a
/// private subscription sends the job, the other bound channels' acknowledgements follow
/// within it.
pub(crate) const SETTLE: Duration = Duration::from_millis(250);
/// Gap windows start this much earlier than the stream's last event.
pub(crate) const WINDOW_MARGIN_MS: i64 = 2_000;
/// Gate.io: least time between two signed REST calls of one feed.
pub(crate) const GATE_PACE: Duration = Duration::from_millis(100);
/// MEXC: least time between two signed REST calls of one feed.
pub(crate) const MEXC_PACE: Duration = Duration::from_millis(250);
/// First retry delay of a failed fetch; doubled per failure up to [`RETRY_MAX`].
pub(crate) const RETRY_MIN: Duration = Duration::from_secs(1);
/// Longest delay between two tries.
pub(crate) const RETRY_MAX: Duration = Duration::from_secs(60);

/// What the reconciler needs.
#[derive(Clone, Debug)]
pub(crate) struct ReconSpec {
    pub(crate) venue: Venue,
    pub(crate) market: Market,
    /// REST base, no trailing slash.
    pub(crate) rest_base: String,
    pub(crate) creds: Credentials,
    /// The feed's symbols (MEXC's endpoints take one symbol per call; names → ids).
    pub(crate) symbols: Vec<(SymbolId, String)>,
    /// Its control thread's settings (trust, timeout); the server-time URL is set here.
    pub(crate) control: ControlConfig,
}

#[derive(Clone, Copy, Debug)]
enum Job {
    Startup,
    Gap { from_ms: i64, id: u64 },
}

/// From the reconciler to the feed thread, in order: `Begin`, the batch's events, `End`; or
/// `Failed` for a try that failed (another follows after the backoff).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Out {
    Begin {
        batch: u64,
        startup: bool,
        /// When the batch's first request was sent (`now_ns`): its answers are as of then.
        fetch_ns: u64,
        /// Newest gap id the batch covers (0 = none).
        gap_through: u64,
    },
    Event(Event),
    End {
        batch: u64,
    },
    Failed(FeedError),
}

struct Shared {
    jobs: ArrayQueue<Job>,
    out: ArrayQueue<Out>,
    stop: AtomicBool,
}

/// The current batch, between `Begin` and `End`.
#[derive(Clone, Copy, Debug)]
struct Batch {
    batch: u64,
    startup: bool,
    fetch_ns: u64,
    gap_through: u64,
}

/// Feed-side end: owned by `FeedCore`, used on the feed thread only. Allocation-free after
/// construction.
pub(crate) struct ReconLink {
    shared: Arc<Shared>,
    thread: std::thread::Thread,
    pub(crate) ledger: Ledger,
    /// The start-up state was asked for (first private bind).
    requested: bool,
    /// Stream events are held until the start-up state is delivered.
    pub(crate) holding: bool,
    held: Vec<(usize, Event)>,
    held_lost_from_ns: u64,
    cur: Option<Batch>,
    /// When the start-up fetch was asked for.
    startup_asked_ns: u64,
    /// The start-up job waits for the stream to be live (`on_live`).
    startup_pending: bool,
    /// A gap's job waits for the stream to be live again: (window start ms, newest gap id).
    gap_pending: Option<(i64, u64)>,
    gap_seq: u64,
    closed_through: u64,
    gap_from: [u64; 64],
}

impl Drop for ReconLink {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.thread.unpark();
    }
}

/// What `FeedCore` does for the reconciler (see [`ReconLink::poll`]).
pub(crate) enum Step {
    /// Deliver to private kind `k` (already admitted by the ledger; flags set).
    Deliver(usize, Event),
    /// Send a status to the private consumers.
    Status(crate::ring::StatusKind, u64, u64),
    /// Log and count a failure.
    Failed(FeedError),
}

/// Private kind index (`Kind::PRIVATE` order) of an event.
pub(crate) fn kind_index(ev: &Event) -> Option<usize> {
    match ev.body {
        Body::Order { .. } => Some(0),
        Body::Fill { .. } => Some(1),
        Body::Balance { .. } => Some(2),
        Body::Position { .. } => Some(3),
        _ => None,
    }
}

impl ReconLink {
    fn new(shared: Arc<Shared>, thread: std::thread::Thread) -> ReconLink {
        ReconLink {
            shared,
            thread,
            ledger: Ledger::new(),
            requested: false,
            holding: false,
            held: Vec::with_capacity(HELD_CAP),
            held_lost_from_ns: 0,
            cur: None,
            startup_asked_ns: 0,
            startup_pending: false,
            gap_pending: None,
            gap_seq: 0,
            closed_through: 0,
            gap_from: [0; 64],
        }
    }

    /// First private bind: ask for the start-up state and hold the stream until it is in.
    pub(crate) fn request_startup(&mut self, now: u64) {
        if self.requested {
            return;
        }
        self.requested = true;
        self.holding = true;
        self.startup_asked_ns = now;
        self.startup_pending = true;
    }

    /// A private subscription was acknowledged: the stream delivers from now on, so what REST
    /// answers from now on joins it without a hole. Pending jobs go to the reconciler (which
    /// waits [`SETTLE`] for the other channels' acknowledgements before it fetches).
    pub(crate) fn on_live(&mut self) {
        let mut sent = false;
        if self.startup_pending {
            self.startup_pending = false;
            sent |= self.shared.jobs.push(Job::Startup).is_ok();
        }
        if let Some((from_ms, id)) = self.gap_pending.take() {
            sent |= self.shared.jobs.push(Job::Gap { from_ms, id }).is_ok();
        }
        if sent {
            self.thread.unpark();
        }
    }

    /// Hold a stream event while the start-up state is fetched (beyond [`HELD_CAP`] the
    /// event is dropped and the span becomes a gap once the state is in).
    pub(crate) fn hold(&mut self, k: usize, ev: Event, recv_ns: u64) {
        if self.held.len() < HELD_CAP {
            self.held.push((k, ev));
        } else if self.held_lost_from_ns == 0 {
            self.held_lost_from_ns = recv_ns.max(1);
        }
    }

    /// A stream event passes the ledger's rules (receive time `recv_ns`).
    pub(crate) fn admit_stream(&mut self, k: usize, ev: &Event, recv_ns: u64, now: u64) -> bool {
        match k {
            0 => self.ledger.admit_order(ev, now, 0, 0),
            1 => self.ledger.admit_fill(ev),
            2 => self.ledger.admit_balance(ev, recv_ns, false),
            _ => self.ledger.admit_position(ev, recv_ns, false),
        }
    }

    /// A gap opened (`PrivateGap` sent): queue its reconciliation.
    pub(crate) fn open_gap(&mut self, from_ns: u64, now: u64) {
        self.gap_seq += 1;
        self.gap_from[(self.gap_seq % 64) as usize] = from_ns;
        let from_ms =
            wall_ms() - (now.saturating_sub(from_ns) / 1_000_000) as i64 - WINDOW_MARGIN_MS;
        self.gap_pending = Some(match self.gap_pending {
            Some((f, _)) => (f.min(from_ms), self.gap_seq),
            None => (from_ms, self.gap_seq),
        });
    }

    /// Gaps reported and not yet closed by a reconciliation.
    pub(crate) fn gaps_open(&self) -> u64 {
        self.gap_seq - self.closed_through
    }

    /// Handle at most `budget` items from the reconciler (and, once the start-up state is in,
    /// the held stream events), calling `f` for what the feed must do. Returns a gap to open
    /// (`from_ns`) when the start-up hold overflowed.
    pub(crate) fn poll(
        &mut self,
        now: u64,
        budget: usize,
        f: &mut impl FnMut(Step),
    ) -> Option<u64> {
        let mut gap = None;
        for _ in 0..budget {
            if !self.holding && !self.held.is_empty() {
                // `held` was reversed when the start-up state came in: pop = arrival order.
                let Some((k, ev)) = self.held.pop() else {
                    break;
                };
                if self.admit_stream(k, &ev, ev.header.ts_recv_ns, now) {
                    f(Step::Deliver(k, ev));
                }
                continue;
            }
            let Some(item) = self.shared.out.pop() else {
                break;
            };
            match item {
                Out::Begin {
                    batch,
                    startup,
                    fetch_ns,
                    gap_through,
                } => {
                    self.cur = Some(Batch {
                        batch,
                        startup,
                        fetch_ns,
                        gap_through,
                    })
                }
                Out::Event(ev) => {
                    let (Some(b), Some(k)) = (self.cur, kind_index(&ev)) else {
                        continue;
                    };
                    let ok = match k {
                        0 => self.ledger.admit_order(&ev, now, b.batch, b.fetch_ns),
                        1 => self.ledger.admit_fill(&ev),
                        2 => self.ledger.admit_balance(&ev, b.fetch_ns, !b.startup),
                        _ => self.ledger.admit_position(&ev, b.fetch_ns, !b.startup),
                    };
                    // The start-up state is delivered whole: it is the consumer's first view.
                    if ok || b.startup {
                        f(Step::Deliver(k, ev));
                    }
                }
                Out::End { batch } => {
                    let Some(b) = self.cur.take().filter(|b| b.batch == batch) else {
                        continue;
                    };
                    if b.startup {
                        self.holding = false;
                        self.held.reverse();
                        if self.held_lost_from_ns != 0 {
                            gap = Some(self.held_lost_from_ns);
                            self.held_lost_from_ns = 0;
                        }
                        f(Step::Status(
                            crate::ring::StatusKind::PrivateSnapshot,
                            self.startup_asked_ns,
                            now,
                        ));
                    } else {
                        self.ledger
                            .close_unlisted(b.batch, b.fetch_ns, now, |ev| f(Step::Deliver(0, ev)));
                        while self.closed_through < b.gap_through.min(self.gap_seq) {
                            self.closed_through += 1;
                            let from = self.gap_from[(self.closed_through % 64) as usize];
                            f(Step::Status(
                                crate::ring::StatusKind::PrivateGapClosed,
                                from,
                                now,
                            ));
                        }
                    }
                }
                Out::Failed(e) => f(Step::Failed(e)),
            }
        }
        gap
    }
}

/// Start the reconciler of one private feed: its thread and its own [`ControlThread`].
pub(crate) fn spawn(spec: ReconSpec) -> Result<(ReconLink, JoinHandle<()>), NetError> {
    let shared = Arc::new(Shared {
        jobs: ArrayQueue::new(256),
        out: ArrayQueue::new(OUT_CAP),
        stop: AtomicBool::new(false),
    });
    let mut control = spec.control.clone();
    control.server_time_url = Some(format!(
        "{}{}",
        spec.rest_base,
        match spec.venue {
            Venue::Mexc => crate::net::clock::MEXC_TIME_PATH,
            Venue::Gateio => crate::net::clock::GATE_TIME_PATH,
        }
    ));
    let (client, _control_join) = ControlThread::spawn(control)?;
    let sh = shared.clone();
    let handle = std::thread::Builder::new()
        .name("cexfeed-recon".into())
        .spawn(move || {
            let mut r = Reconciler {
                spec,
                client,
                sh,
                last_call: None,
                next_id: 1,
            };
            r.run();
            r.client.stop();
        })
        .map_err(NetError::Io)?;
    let thread = handle.thread().clone();
    Ok((ReconLink::new(shared, thread), handle))
}

/// Own-trade pages fetched per symbol and gap at most.
pub(crate) const MAX_PAGES: usize = 50;
/// Gate's `limit` for own trades (its maximum, Gate APIv4 docs).
const GATE_TRADES_LIMIT: u32 = 1000;

/// What one page of own trades brought.
struct Page {
    /// Some trade in it was new, and none was before the window: ask for the next page.
    more: bool,
    /// The newest trade's time in it (ms).
    newest_ms: i64,
}

/// Keep the fills of `page` not seen on an earlier page (by trade id) in `out`.
fn take_new(
    page: Vec<Event>,
    seen: &mut HashSet<String>,
    from_ms: i64,
    out: &mut Vec<Event>,
) -> Page {
    let mut new = 0;
    let mut before = false;
    let mut newest_ms = i64::MIN;
    for ev in page {
        if let Body::Fill { trade_id, .. } = &ev.body {
            newest_ms = newest_ms.max(ev.header.ts_exchange_ms);
            before |= ev.header.ts_exchange_ms < from_ms;
            if seen.insert(trade_id.as_str().to_string()) {
                new += 1;
                out.push(ev);
            }
        }
    }
    Page {
        more: new > 0 && !before,
        newest_ms,
    }
}

/// One failed call: why, for the error log (no query, no header: no signature, no key).
struct CallError {
    path: &'static str,
    code: i64,
    detail: String,
}

struct Reconciler {
    spec: ReconSpec,
    client: ControlClient,
    sh: Arc<Shared>,
    last_call: Option<Instant>,
    next_id: u64,
}

/// Builds ring events from REST answers (on the reconciler thread).
struct Collect<'a> {
    venue: Venue,
    market: Market,
    symbols: &'a [(SymbolId, String)],
    flags: u8,
    recv_ns: u64,
    out: &'a mut Vec<Event>,
}

impl Collect<'_> {
    fn header(&self, symbol: &str) -> Header {
        let id = self
            .symbols
            .iter()
            .find(|(_, n)| n == symbol)
            .map_or(NO_SYMBOL, |(id, _)| *id);
        let mut h = Header::new(self.venue, self.market, id, self.recv_ns);
        h.flags = self.flags;
        h
    }
}

impl Sink for Collect<'_> {
    fn order(&mut self, m: &OrderMsg<'_>) {
        let ev = Event::order(self.header(m.symbol), m);
        self.out.push(ev);
    }
    fn fill(&mut self, m: &FillMsg<'_>) {
        let ev = Event::fill(self.header(m.symbol), m);
        self.out.push(ev);
    }
    fn balance(&mut self, m: &BalanceMsg<'_>) {
        let ev = Event::balance(self.header(""), m);
        self.out.push(ev);
    }
    fn position(&mut self, m: &PositionMsg<'_>) {
        let ev = Event::position(self.header(m.contract), m);
        self.out.push(ev);
    }
}

type Parse = fn(&[u8], &mut Collect<'_>) -> Result<(), AccountBodyError>;

/// Delivery order of a batch: orders and fills by venue time (fills of an order before its
/// current state), then balances, then positions.
fn sort_key(ev: &Event) -> (u8, i64) {
    match ev.body {
        Body::Order { .. } | Body::Fill { .. } => (0, ev.header.ts_exchange_ms),
        Body::Balance { .. } => (1, 0),
        _ => (2, 0),
    }
}

impl Reconciler {
    fn stopped(&self) -> bool {
        self.sh.stop.load(Ordering::Relaxed)
    }

    fn run(&mut self) {
        // The first signed call needs the venue's clock: a bounded head start.
        self.client.wait_clock(Duration::from_secs(3));
        let mut startup = false;
        let mut gap: Option<(i64, u64)> = None;
        let mut batch = 0u64;
        let mut backoff = Duration::ZERO;
        let mut next_try = Instant::now();
        while !self.stopped() {
            while let Some(j) = self.sh.jobs.pop() {
                next_try = next_try.max(Instant::now() + SETTLE);
                match j {
                    Job::Startup => startup = true,
                    Job::Gap { from_ms, id } => {
                        gap = Some(match gap {
                            Some((f, i)) => (f.min(from_ms), i.max(id)),
                            None => (from_ms, id),
                        })
                    }
                }
            }
            if !(startup || gap.is_some()) || Instant::now() < next_try {
                std::thread::park_timeout(Duration::from_millis(50));
                continue;
            }
            // The start-up state first; a gap's window after it.
            let (is_startup, from_ms, through) = if startup {
                (true, 0, 0)
            } else {
                let (f, i) = gap.unwrap_or((0, 0));
                (false, f, i)
            };
            let fetch_ns = now_ns();
            let mut events = Vec::new();
            match self.fetch(is_startup, from_ms, &mut events) {
                Ok(()) => {
                    backoff = Duration::ZERO;
                    events.sort_by_key(sort_key);
                    batch += 1;
                    self.push(Out::Begin {
                        batch,
                        startup: is_startup,
                        fetch_ns,
                        gap_through: through,
                    });
                    for ev in events {
                        self.push(Out::Event(ev));
                    }
                    self.push(Out::End { batch });
                    if is_startup {
                        startup = false;
                    } else if gap.is_some_and(|(_, i)| i == through) {
                        gap = None;
                    }
                }
                Err(e) => {
                    backoff = (backoff * 2).clamp(RETRY_MIN, RETRY_MAX);
                    next_try = Instant::now() + backoff;
                    let rec = FeedError::new(
                        FeedErrorKind::ReconFailed,
                        self.spec.venue,
                        self.spec.market,
                        now_ns(),
                    )
                    .code(e.code)
                    .arg(e.path)
                    .detail(&e.detail);
                    self.push(Out::Failed(rec));
                }
            }
        }
    }

    /// Queue to the feed thread, waiting for room (bounded by stop): never dropped.
    fn push(&self, mut o: Out) {
        loop {
            match self.sh.out.push(o) {
                Ok(()) => return,
                Err(back) => {
                    if self.stopped() {
                        return;
                    }
                    o = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }

    fn fetch(
        &mut self,
        startup: bool,
        from_ms: i64,
        out: &mut Vec<Event>,
    ) -> Result<(), CallError> {
        use gateio::account as ga;
        use mexc::account as ma;
        let flags = if startup {
            FLAG_SNAPSHOT
        } else {
            FLAG_RECONCILED
        };
        let names: Vec<String> = self.spec.symbols.iter().map(|(_, n)| n.clone()).collect();
        match (self.spec.venue, self.spec.market) {
            (Venue::Gateio, Market::Spot) => {
                self.gate(
                    ga::SPOT_OPEN_ORDERS_PATH,
                    String::new(),
                    flags,
                    out,
                    |b, c| ga::spot_open_orders(b, c),
                )?;
                if !startup {
                    // Paged (`page` = 1, 2, …): until a page is empty, brings nothing new, or
                    // reaches before the window.
                    // The window ends where the fetch began (the stream, live again, carries
                    // what follows).
                    let from_s = (from_ms / 1000).max(0);
                    let to_s = self.client.server_now_ms().div_euclid(1000) + 1;
                    for n in &names {
                        let mut seen = HashSet::new();
                        for page in 1..=MAX_PAGES {
                            let q = format!(
                                "currency_pair={n}&from={from_s}&to={to_s}&limit={GATE_TRADES_LIMIT}&page={page}"
                            );
                            let mut tmp = Vec::new();
                            self.gate(ga::SPOT_MY_TRADES_PATH, q, flags, &mut tmp, |b, c| {
                                ga::spot_my_trades(b, c)
                            })?;
                            if !take_new(tmp, &mut seen, from_ms, out).more {
                                break;
                            }
                        }
                    }
                }
                self.gate(ga::SPOT_ACCOUNTS_PATH, String::new(), flags, out, |b, c| {
                    ga::spot_accounts(b, c)
                })?;
            }
            (Venue::Gateio, Market::Futures) => {
                self.gate(
                    ga::FUTURES_ORDERS_PATH,
                    "status=open".into(),
                    flags,
                    out,
                    |b, c| ga::futures_orders(b, c),
                )?;
                if !startup {
                    // Newest first, paged by `offset` until the window's start is reached.
                    for n in &names {
                        let mut seen = HashSet::new();
                        let mut offset = 0usize;
                        for _ in 0..MAX_PAGES {
                            let q =
                                format!("contract={n}&limit={GATE_TRADES_LIMIT}&offset={offset}");
                            let mut tmp = Vec::new();
                            self.gate(ga::FUTURES_MY_TRADES_PATH, q, flags, &mut tmp, |b, c| {
                                ga::futures_my_trades(b, c)
                            })?;
                            offset += tmp.len();
                            if !take_new(tmp, &mut seen, from_ms, out).more {
                                break;
                            }
                        }
                    }
                }
                self.gate(
                    ga::FUTURES_POSITIONS_PATH,
                    String::new(),
                    flags,
                    out,
                    |b, c| ga::futures_positions(b, c),
                )?;
                self.gate(
                    ga::FUTURES_ACCOUNTS_PATH,
                    String::new(),
                    flags,
                    out,
                    |b, c| ga::futures_accounts(b, c),
                )?;
            }
            (Venue::Mexc, _) => {
                for n in &names {
                    let ts = self.client.server_now_ms();
                    let req = ma::open_orders_request(&self.spec.creds, n, ts);
                    self.mexc(ma::OPEN_ORDERS_PATH, req, flags, out, |b, c| {
                        ma::open_orders(b, c)
                    })?;
                }
                if !startup {
                    // Oldest first from `startTime`, at most 100 a page: the next page starts at
                    // the last trade's time (inclusive; its trade is recognised as seen), until
                    // a page brings nothing new.
                    // The window ends where the fetch began (the stream, live again, carries
                    // what follows).
                    let end = self.client.server_now_ms() + 1_000;
                    for n in &names {
                        let mut seen = HashSet::new();
                        let mut start = from_ms;
                        for _ in 0..MAX_PAGES {
                            let ts = self.client.server_now_ms();
                            let req =
                                ma::my_trades_request(&self.spec.creds, n, start, Some(end), ts);
                            let mut tmp = Vec::new();
                            self.mexc(ma::MY_TRADES_PATH, req, flags, &mut tmp, |b, c| {
                                ma::my_trades(b, c)
                            })?;
                            let got = take_new(tmp, &mut seen, i64::MIN, out);
                            if !got.more || got.newest_ms <= start {
                                break;
                            }
                            start = got.newest_ms;
                        }
                    }
                }
                let ts = self.client.server_now_ms();
                let req = ma::account_request(&self.spec.creds, ts);
                self.mexc(ma::ACCOUNT_PATH, req, flags, out, |b, c| ma::account(b, c))?;
            }
        }
        Ok(())
    }

    fn gate(
        &mut self,
        path: &'static str,
        query: String,
        flags: u8,
        out: &mut Vec<Event>,
        parse: Parse,
    ) -> Result<(), CallError> {
        let ts_s = self.client.server_now_ms().div_euclid(1000);
        let mut headers = gateio::account::signed_get_headers(&self.spec.creds, path, &query, ts_s);
        if self.spec.market == Market::Futures {
            let (k, v) = gateio::SIZE_DECIMAL_HEADER;
            headers.push((k.to_string(), v.to_string()));
        }
        let url = if query.is_empty() {
            format!("{}{path}", self.spec.rest_base)
        } else {
            format!("{}{path}?{query}", self.spec.rest_base)
        };
        self.call(path, url, headers, flags, out, parse)
    }

    fn mexc(
        &mut self,
        path: &'static str,
        req: mexc::SignedRequest,
        flags: u8,
        out: &mut Vec<Event>,
        parse: Parse,
    ) -> Result<(), CallError> {
        let url = req.url(&self.spec.rest_base);
        let headers = req
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        self.call(path, url, headers, flags, out, parse)
    }

    fn call(
        &mut self,
        path: &'static str,
        url: String,
        headers: Vec<(String, String)>,
        flags: u8,
        out: &mut Vec<Event>,
        parse: Parse,
    ) -> Result<(), CallError> {
        let pace = match self.spec.venue {
            Venue::Gateio => GATE_PACE,
            Venue::Mexc => MEXC_PACE,
        };
        if let Some(t) = self.last_call {
            let due = t + pace;
            while Instant::now() < due && !self.stopped() {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let fail = |code: i64, detail: &str| CallError {
            path,
            code,
            detail: detail.to_string(),
        };
        let id = self.next_id;
        self.next_id += 1;
        let req = HttpRequest {
            id,
            method: HttpMethod::Get,
            url,
            headers,
            body: Vec::new(),
        };
        if self.client.submit(req).is_err() {
            return Err(fail(-1, "control queue refused the request"));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let reply = loop {
            if let Some(r) = self.client.try_reply() {
                if r.id == id {
                    break r;
                }
                continue;
            }
            if self.stopped() {
                return Err(fail(-1, "stopping"));
            }
            if Instant::now() >= deadline {
                self.last_call = Some(Instant::now());
                return Err(fail(-1, "no answer"));
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        // Paced from the answer: the next request leaves at least `pace` after this one was
        // answered, so also after it arrived.
        self.last_call = Some(Instant::now());
        match reply.result {
            Ok((200, body)) => {
                let mut c = Collect {
                    venue: self.spec.venue,
                    market: self.spec.market,
                    symbols: &self.spec.symbols,
                    flags,
                    recv_ns: now_ns(),
                    out,
                };
                parse(&body, &mut c).map_err(|e| fail(-1, &e.to_string()))
            }
            Ok((status, body)) => {
                let (code, label) = error_label(&body);
                if code == 700003 {
                    // MEXC: our timestamp is outside recvWindow: measure the clock again.
                    self.client.resync_clock();
                }
                Err(fail(
                    if code != 0 { code } else { status as i64 },
                    &format!("HTTP {status} {label}"),
                ))
            }
            Err(e) => Err(fail(-1, transport(&e))),
        }
    }
}

/// The venue's error code and label from an error body (Gate `{"label","message"}`, MEXC
/// `{"code","msg"}`); only these fields are kept (a body is never quoted whole).
fn error_label(body: &[u8]) -> (i64, String) {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let code = v.get("code").and_then(|c| c.as_i64()).unwrap_or(0);
    let label = v
        .get("label")
        .or_else(|| v.get("msg"))
        .and_then(|l| l.as_str())
        .unwrap_or("")
        .chars()
        .take(64)
        .collect();
    (code, label)
}

/// A transport failure's kind only: its text can quote the URL (the signed query).
fn transport(e: &ControlError) -> &'static str {
    match e {
        ControlError::Timeout => "timeout",
        ControlError::Tls(_) => "tls",
        ControlError::Io(_) => "connect/io",
        ControlError::BodyTooLarge => "body too large",
        _ => "request refused",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{FillMsg, IdRef, Liquidity};
    use crate::ring::StatusKind;
    use crate::types::{Dec, Px, Qty, Side};

    fn link() -> ReconLink {
        let shared = Arc::new(Shared {
            jobs: ArrayQueue::new(16),
            out: ArrayQueue::new(OUT_CAP),
            stop: AtomicBool::new(false),
        });
        ReconLink::new(shared, std::thread::current())
    }

    fn fill(id: &str, flags: u8, recv: u64) -> Event {
        let mut h = Header::new(Venue::Gateio, Market::Spot, SymbolId(1), recv);
        h.flags = flags;
        Event::fill(
            h,
            &FillMsg {
                symbol: "BTC_USDT",
                trade_id: IdRef::Str(id),
                order_id: IdRef::Str("o1"),
                client_id: None,
                px: Px::from_int(1),
                qty: Qty::from_int(1),
                side: Side::Buy,
                liquidity: Liquidity::Maker,
                fee: Dec::ZERO,
                fee_currency: None,
                ts_exchange_ms: Some(1),
            },
        )
    }

    fn steps(l: &mut ReconLink) -> (Vec<Step>, Option<u64>) {
        let mut out = Vec::new();
        let gap = l.poll(1_000, 4096, &mut |s| out.push(s));
        (out, gap)
    }

    #[test]
    fn startup_state_first_then_the_held_stream_and_an_overflow_becomes_a_gap() {
        let mut l = link();
        l.request_startup(10);
        // Nothing is asked before the stream is live.
        assert!(l.shared.jobs.pop().is_none());
        l.on_live();
        assert!(matches!(l.shared.jobs.pop(), Some(Job::Startup)));
        for i in 0..HELD_CAP + 5 {
            l.hold(1, fill(&format!("s{i}"), 0, 100 + i as u64), 100 + i as u64);
        }
        for o in [
            Out::Begin {
                batch: 1,
                startup: true,
                fetch_ns: 50,
                gap_through: 0,
            },
            Out::Event(fill("x", FLAG_SNAPSHOT, 60)),
            Out::End { batch: 1 },
        ] {
            l.shared.out.push(o).unwrap();
        }
        let (s, gap) = steps(&mut l);
        // The snapshot's event, its status, then the held events in arrival order.
        assert!(matches!(s[0], Step::Deliver(1, e) if e.header.flags & FLAG_SNAPSHOT != 0));
        assert!(matches!(
            s[1],
            Step::Status(StatusKind::PrivateSnapshot, 10, _)
        ));
        assert_eq!(s.len(), 2 + HELD_CAP);
        let ids: Vec<String> = s[2..5]
            .iter()
            .map(|x| match x {
                Step::Deliver(
                    _,
                    Event {
                        body: Body::Fill { trade_id, .. },
                        ..
                    },
                ) => trade_id.as_str().to_string(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(ids, ["s0", "s1", "s2"]);
        // The events beyond the hold were lost: their span is a gap from the first one.
        assert_eq!(gap, Some(100 + HELD_CAP as u64));
    }

    #[test]
    fn a_gap_is_closed_after_its_missed_events_and_only_by_a_batch_covering_it() {
        let mut l = link();
        l.open_gap(500, 1_000_000_000);
        assert_eq!(l.gaps_open(), 1);
        assert!(
            l.shared.jobs.pop().is_none(),
            "asked before the stream is live"
        );
        l.on_live();
        assert!(matches!(l.shared.jobs.pop(), Some(Job::Gap { id: 1, .. })));
        // The stream already delivered "a"; the REST answer has "a" and the missed "b".
        assert!(l.admit_stream(1, &fill("a", 0, 600), 600, 600));
        for o in [
            Out::Begin {
                batch: 1,
                startup: false,
                fetch_ns: 700,
                gap_through: 1,
            },
            Out::Event(fill("a", FLAG_RECONCILED, 800)),
            Out::Event(fill("b", FLAG_RECONCILED, 800)),
            Out::End { batch: 1 },
        ] {
            l.shared.out.push(o).unwrap();
        }
        let (s, _) = steps(&mut l);
        assert_eq!(s.len(), 2, "the duplicate was delivered");
        assert!(
            matches!(s[0], Step::Deliver(1, Event { body: Body::Fill { trade_id, .. }, .. }) if trade_id.as_str() == "b")
        );
        assert!(matches!(
            s[1],
            Step::Status(StatusKind::PrivateGapClosed, 500, _)
        ));
        assert_eq!(l.gaps_open(), 0);
        // The stream repeating "b" now is dropped.
        assert!(!l.admit_stream(1, &fill("b", 0, 900), 900, 900));
        // A second gap is not closed by a batch fetched for the first only.
        l.open_gap(950, 1_000_000_000);
        for o in [
            Out::Begin {
                batch: 2,
                startup: false,
                fetch_ns: 940,
                gap_through: 1,
            },
            Out::End { batch: 2 },
        ] {
            l.shared.out.push(o).unwrap();
        }
        let (s, _) = steps(&mut l);
        assert!(s.is_empty(), "{} steps", s.len());
        assert_eq!(l.gaps_open(), 1);
    }
}
