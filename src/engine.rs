//! The binding API: an [`Engine`] runs one feed thread per configured venue + market; a
//! strategy gets a [`StrategyRx`] (the consumer end of one SPSC ring per feed) and binds
//! channels to it by name.
//!
//! ```no_run
//! use cexfeed::engine::{Engine, EngineConfig};
//! # fn demo(cfg: EngineConfig) -> Result<(), Box<dyn std::error::Error>> {
//! let mut engine = Engine::new(cfg)?;
//! let mut rx = engine.consumer()?;
//! engine.bind("gateio.spot.orderbook.BTC_USDT", rx.id())?;   // refused at once if malformed
//! engine.bind("mexc.spot.trades.BTCUSDT", rx.id())?;
//! engine.start()?;
//! // on the (pinned) strategy thread:
//! while let Some(ev) = rx.try_recv() {
//!     if let Some(top) = ev.book() { let _ = top.bids(); }
//! } // each event's book slot went back to the feed's pool when `ev` was dropped
//! # Ok(()) }
//! ```
//!
//! Bindings can be made before or while running; the subscription goes out on the feed thread.
//! Symbols must be named (bound or listed in the config) before `start`, because every book is
//! sized and allocated then; a well-formed symbol the venue does not list arrives as an `Error`
//! event on the consumers bound to it.

use crate::book::SyncRule;
use crate::channel::{Channel, ChannelError, Kind};
use crate::feed::gateio::GateFeed;
use crate::feed::mexc::MexcFeed;
use crate::feed::{self, Command, FeedCore};
pub use crate::feed::{
    BookDump, ErrorLog, FeedError, FeedErrorKind, FeedSetup, FeedShared, FeedStats, SymbolStatus,
    RECON_FAILED_TEXT,
};
use crate::metrics::{self, Collector, HistRecorder, Percentiles, Stage};
use crate::net::{
    CaCert, ConnSpec, ControlClient, ControlConfig, ControlThread, NetCounters, Reactor,
    ReactorConfig, Wait, WaitMode,
};
use crate::record::replay::{ReplaySetup, ReplayStats};
use crate::record::{RecordSetup, Recorder, RecorderStats, TapStats};
use crate::ring::{self, Event, RingConfig, TopBook};
use crate::types::{now_ns, Market, Qty, SymbolId, SymbolMeta, SymbolRegistry, Venue};
use crossbeam_queue::ArrayQueue;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Symbol ids below this get a conflation slot in every consumer ring.
pub const MAX_SYMBOLS: usize = 256;

/// How long [`Engine::start`] waits for the first round of Gate futures contract sizes.
const CONTRACTS_START_WAIT: Duration = Duration::from_secs(5);

/// Engine-wide sizes; per-feed settings live in [`FeedSetup`].
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// One resolved setup per venue + market (each runs its own thread).
    pub feeds: Vec<FeedSetup>,
    /// Events per consumer ring.
    pub ring_capacity: usize,
    /// Levels per side in pooled book slots.
    pub top_n: usize,
    /// Pooled book slots per consumer ring. `ring_capacity + MAX_SYMBOLS + 64` means no
    /// book update ever waits for a slot; fewer drop updates when the consumer holds many
    /// (counted as `pool_empty`). [`Config::resolve`](crate::config::Config::resolve) sets it.
    pub book_pool: usize,
    /// Core for the control (REST) threads.
    pub control_core: Option<usize>,
}

/// Why the engine refused a set-up call (cold path; the message names the cause).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A malformed or unknown channel name (the message names the part).
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// Two feeds for the same venue and market.
    #[error("feed {venue}.{market} configured twice")]
    DuplicateFeed {
        /// The venue.
        venue: &'static str,
        /// The market.
        market: &'static str,
    },
    /// A symbol bound after `start` that was not listed before it.
    #[error(
        "symbol {symbol} was not declared before start: books are sized at start; list it in the feed's symbols"
    )]
    UndeclaredSymbol {
        /// The symbol.
        symbol: String,
    },
    /// The feed thread has not taken the previous commands yet; try again.
    #[error("feed command queue full")]
    CommandQueueFull,
    /// `start` after a failed `start` (the metrics recorders went to the first attempt).
    #[error("feed recorders already taken")]
    RecordersTaken,
    /// The OS refused a thread.
    #[error("cannot spawn feed thread: {0}")]
    Spawn(#[source] std::io::Error),
    /// Building the TLS configuration or a connection spec failed.
    #[error("network setup failed: {0}")]
    Net(#[from] crate::net::NetError),
    /// `start` twice, or a set-up call that must come before `start`.
    #[error("the engine is already running")]
    Running,
    /// More consumers than the feeds route to.
    #[error("too many consumers (at most {})", feed::MAX_CONSUMERS)]
    TooManyConsumers,
    /// The recording directory or the recorder thread could not be set up.
    #[error("recording: {0}")]
    Record(#[source] std::io::Error),
}

/// Identifies a consumer in `bind`/`unbind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsumerId(pub usize);

struct FeedRt {
    setup: FeedSetup,
    commands: feed::CommandQueue,
    shared: Option<Arc<FeedShared>>,
    collector: Option<Collector>,
    /// Feed-thread recorders, moved into the feed at start.
    recorders: Option<(HistRecorder, HistRecorder, HistRecorder)>,
    /// Strategy-side recorder (wire → strategy), given to the first consumer.
    strategy_rec: Option<HistRecorder>,
    counters: Arc<metrics::Counters>,
    net: Option<Arc<NetCounters>>,
    stop: Option<Arc<AtomicBool>>,
    join: Option<JoinHandle<FeedFinal>>,
    /// Gate futures: the contract multipliers and the contracts thread's stop flag.
    contracts: Option<(Arc<feed::contracts::Multipliers>, Arc<AtomicBool>)>,
    /// The recorder thread of this feed (`Engine::record`).
    recorder: Option<Recorder>,
    /// Its counters (kept after the recorder is finished).
    record_stats: Option<(Arc<TapStats>, Arc<RecorderStats>)>,
    /// This feed's replay (`Engine::replay`).
    replay_stats: Option<Arc<ReplayStats>>,
}

/// What a feed thread leaves behind.
#[derive(Debug, Default)]
pub struct FeedFinal {
    /// The feed's venue (`None` if the thread never started).
    pub venue: Option<Venue>,
    /// The feed's market.
    pub market: Option<Market>,
    /// Every book at the end: state, sequence and levels.
    pub books: Vec<BookDump>,
    /// Events dropped because a consumer ring was full.
    pub ring_dropped: u64,
    /// Book updates conflated (latest wins) while a ring was full.
    pub ring_conflated: u64,
    /// Events delivered into consumer rings.
    pub ring_sent: u64,
    /// Why the feed thread ended early, if it did (render with `Display`).
    pub error: Option<FeedExit>,
    /// The files its recorder wrote (`Engine::record`), in order.
    pub recorded: Vec<std::path::PathBuf>,
}

/// How a feed thread died (cold path: the thread is gone; its errors before that are in
/// [`FeedShared::errors`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedExit {
    /// The reactor stopped with a network error.
    #[error(transparent)]
    Net(#[from] crate::net::NetError),
    /// The feed thread panicked (a bug of ours; its books were marked stale).
    #[error("feed thread panicked")]
    Panicked,
}

/// Live view of one feed for cold threads (live view, report).
pub struct FeedView {
    /// The feed's venue.
    pub venue: Venue,
    /// The feed's market.
    pub market: Market,
    /// Counters, per-symbol status and error log the feed thread publishes.
    pub shared: Arc<FeedShared>,
    /// The reactor's connection counters (after `start`).
    pub net: Option<Arc<NetCounters>>,
    /// The feed has credentials: it runs a private stream and its reconciler (`feed::recon`).
    pub private: bool,
}

/// The feeds of one process: one pinned thread per venue + market, the consumers' rings, the
/// bindings. Built from an [`EngineConfig`] (see [`Config::resolve`](crate::config::Config::resolve)),
/// then `consumer`, `bind`, `start`; `stop` joins the threads.
pub struct Engine {
    registry: SymbolRegistry,
    feeds: Vec<FeedRt>,
    consumers: usize,
    ring_cfg: RingConfig,
    started: bool,
    control_core: Option<usize>,
    record: Option<RecordSetup>,
    replay: Option<ReplaySetup>,
}

/// How long [`StrategyRx::recv_timeout`] / [`StrategyRx::wait`] poll before they park. A park
/// costs the feed thread a `FUTEX_WAKE` system call and the strategy a scheduler wake-up (tens
/// of µs on a VM); polling costs a core, and on shared cores it takes the core from the feed
/// threads. Measured on the 2-vCPU VM (tuning.md §9.2, §9.3), `ring_to_strategy` p50 at 100k
/// pushes/s with one strategy: 2 µs of polling 29–37 µs (200 polls: 31–39 µs), 50 µs
/// 33–49 µs, 200 µs 27–34 µs, 1 ms 0.5 µs (the stream arrives in read batches 50–100 µs
/// apart: only a longer poll stops the parking); with two parked consumers of one feed (the ipc bench), 50 µs made the second one's
/// p50 4× worse than 2 µs (the pollers starve the feed threads). So the default is short: a
/// blocking strategy on shared cores; a strategy with a core to burn sets ~1 ms or spins.
pub const DEFAULT_SPIN: Duration = Duration::from_micros(2);

/// Longest single park: a parked consumer still serves metrics snapshot requests this often.
const PARK_SLICE: Duration = Duration::from_millis(5);

/// Strategy side: one ring per feed. `Send`; use it from one (pinned) thread.
pub struct StrategyRx {
    id: ConsumerId,
    rings: Vec<(Venue, Market, ring::Consumer)>,
    latency: Vec<HistRecorder>,
    next: usize,
    idle_polls: u32,
    /// Rung by this consumer's producers; [`StrategyRx::recv_timeout`] parks on it.
    bell: Arc<ring::Doorbell>,
    /// How long [`StrategyRx::recv_timeout`] polls before it parks.
    spin: Duration,
}

/// One event from [`StrategyRx::try_recv`], borrowed from the consumer. Dereferences to the
/// [`Event`]; [`book`](Received::book) gives a `Book` event's pooled top-N levels. Dropping it
/// hands the book slot back to the feed's pool (as rtrb's read chunks commit on drop): nothing
/// to forget, nothing allocated.
pub struct Received<'a> {
    event: Event,
    consumer: &'a mut ring::Consumer,
}

impl Received<'_> {
    /// The event record (also reachable through `Deref`).
    #[inline]
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The pooled top-N book of a `Book` event; `None` for other events.
    #[inline]
    pub fn book(&self) -> Option<&TopBook> {
        self.consumer.book(&self.event)
    }
}

impl std::ops::Deref for Received<'_> {
    type Target = Event;
    #[inline]
    fn deref(&self) -> &Event {
        &self.event
    }
}

impl Drop for Received<'_> {
    #[inline]
    fn drop(&mut self) {
        // Returns a Book event's slot to its pool; a no-op for other events.
        self.consumer.release(&self.event);
    }
}

impl std::fmt::Debug for Received<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.event.fmt(f)
    }
}

impl StrategyRx {
    /// The id to bind channels to.
    pub fn id(&self) -> ConsumerId {
        self.id
    }

    /// Next event from any feed (round robin), or `None`. Never blocks, never allocates.
    ///
    /// The event is borrowed from this consumer until the [`Received`] is dropped; a `Book`
    /// event's pooled slot goes back to its feed then, so a strategy cannot leak the pool.
    /// Copy what must outlive the next `try_recv` (the [`Event`] itself is `Copy`; a
    /// [`TopBook`] can be copied into a buffer of the strategy's own).
    #[inline]
    pub fn try_recv(&mut self) -> Option<Received<'_>> {
        let n = self.rings.len();
        let mut found = None;
        for k in 0..n {
            let i = (self.next + k) % n;
            if let Some(ev) = self.rings[i].2.try_recv() {
                found = Some((i, ev));
                break;
            }
        }
        let Some((i, event)) = found else {
            self.idle_polls = self.idle_polls.wrapping_add(1);
            if self.idle_polls % 64 == 0 {
                for r in &mut self.latency {
                    r.poll();
                }
            }
            return None;
        };
        self.next = (i + 1) % n;
        if event.header.ts_recv_ns != 0 {
            if let Some(rec) = self.latency.get_mut(i) {
                rec.record(now_ns().saturating_sub(event.header.ts_recv_ns));
            }
        }
        Some(Received {
            event,
            consumer: &mut self.rings[i].2,
        })
    }

    /// Next event, waiting up to `timeout` for one: polls the rings for
    /// [`set_spin`](Self::set_spin) (default [`DEFAULT_SPIN`]), then parks the thread on a
    /// futex until a feed thread pushes (the push wakes it) or the time is up. `None` on
    /// timeout.
    ///
    /// The blocking receive for shared cores: the thread sleeps in the kernel instead of
    /// spinning or sleeping a fixed quantum, and wakes in the kernel's wake-up latency. No
    /// allocation, no lock; metrics snapshot requests are served between park slices (5 ms at
    /// most). On a core of its own, `try_recv` in a loop (spin) is faster still.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<Received<'_>> {
        if self.wait(timeout) {
            self.try_recv()
        } else {
            None
        }
    }

    /// How long [`recv_timeout`](Self::recv_timeout) / [`wait`](Self::wait) poll before
    /// parking (`Duration::ZERO`: park at once; default [`DEFAULT_SPIN`]).
    pub fn set_spin(&mut self, spin: Duration) {
        self.spin = spin;
    }

    /// Wake-ups this consumer's feed threads sent it (each a `futex` system call on a feed
    /// thread; none while the consumer is busy or spinning).
    pub fn wakeups(&self) -> u64 {
        self.bell.wakes()
    }

    /// Anything to read on any ring (without taking it).
    #[inline]
    fn ready(&self) -> bool {
        self.rings.iter().any(|r| r.2.ready())
    }

    /// Wait up to `timeout` until an event is ready (spin, then park, as
    /// [`recv_timeout`](Self::recv_timeout)) without taking it; `true` if one is. For loops
    /// that drain with `try_recv` and wait when empty.
    pub fn wait(&mut self, timeout: Duration) -> bool {
        if !self.spin.is_zero() {
            // The clock is read every 64 polls, not every poll.
            let until = std::time::Instant::now() + self.spin;
            loop {
                for _ in 0..64 {
                    if self.ready() {
                        return true;
                    }
                    std::hint::spin_loop();
                }
                if std::time::Instant::now() >= until {
                    break;
                }
            }
        }
        if self.ready() {
            return true;
        }
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return self.ready();
            }
            let (bell, rings) = (&self.bell, &self.rings);
            if bell.park(left.min(PARK_SLICE), || rings.iter().any(|r| r.2.ready())) {
                return true;
            }
            self.poll_metrics();
        }
    }

    /// Serve pending metrics snapshot requests (also done while idle in `try_recv`).
    pub fn poll_metrics(&mut self) {
        for r in &mut self.latency {
            r.poll();
        }
    }
}

/// The hosts a feed's extra CA (`ca_file`) is trusted for, on WebSocket and REST alike: the
/// hosts of its own configured endpoints (`ws_url`, the private stream URL, `rest_url`). Every
/// other host is verified against the web PKI roots only (ARCHITECTURE.md, security notes).
pub(crate) fn ca_hosts(setup: &FeedSetup) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::with_capacity(3);
    for url in [&setup.ws_url, &setup.private_ws_url, &setup.rest_url] {
        if let Some(h) = crate::net::host_of(url) {
            if !hosts.iter().any(|x| x.eq_ignore_ascii_case(h)) {
                hosts.push(h.to_string());
            }
        }
    }
    hosts
}

fn wait_of(w: WaitMode) -> Wait {
    match w {
        WaitMode::Spin => Wait::Spin,
        WaitMode::Yield => Wait::Yield,
        WaitMode::Block => Wait::Block(Duration::from_millis(5)),
    }
}

impl Engine {
    /// Register the feeds and their symbols and size every ring and pool; no thread runs yet.
    pub fn new(cfg: EngineConfig) -> Result<Engine, EngineError> {
        let mut seen = Vec::new();
        for f in &cfg.feeds {
            if seen.contains(&(f.venue, f.market)) {
                return Err(EngineError::DuplicateFeed {
                    venue: f.venue.as_str(),
                    market: f.market.as_str(),
                });
            }
            seen.push((f.venue, f.market));
        }
        let mut registry = SymbolRegistry::new();
        let mut feeds = Vec::new();
        for mut setup in cfg.feeds {
            // Symbols listed up front get ids now.
            let names: Vec<String> = setup.symbols.iter().map(|(_, n)| n.clone()).collect();
            setup.symbols.clear();
            for n in names {
                let id = registry.register(SymbolMeta::new(setup.venue, setup.market, &n));
                if !setup.symbols.iter().any(|(i, _)| *i == id) {
                    setup.symbols.push((id, n));
                }
            }
            let (rec, col) = metrics::new();
            feeds.push(FeedRt {
                commands: Arc::new(ArrayQueue::new(4096)),
                shared: None,
                counters: rec.counters.clone(),
                collector: Some(col),
                recorders: Some((rec.decode, rec.book_apply, rec.wire_to_ring)),
                strategy_rec: Some(rec.wire_to_strategy),
                net: None,
                stop: None,
                join: None,
                contracts: None,
                recorder: None,
                record_stats: None,
                replay_stats: None,
                setup,
            });
        }
        let mut ring_cfg = RingConfig::new(cfg.ring_capacity, cfg.top_n, MAX_SYMBOLS);
        // As configured: `Config::resolve` decides the default; a pool smaller than the ring
        // drops book updates it has no slot for (counted), it never blocks.
        ring_cfg.pool_size = cfg.book_pool.max(1);
        Ok(Engine {
            registry,
            feeds,
            consumers: 0,
            ring_cfg,
            started: false,
            control_core: cfg.control_core,
            record: None,
            replay: None,
        })
    }

    /// Levels per side of the pooled books consumers receive (`runtime.top_n`).
    pub fn top_n(&self) -> usize {
        self.ring_cfg.top_n
    }

    /// Record every feed's traffic (issue 15; see `crate::record` and `docs/recording.md`):
    /// each feed thread copies what it receives and sends into a ring, a recorder thread per
    /// feed writes the files. Before `start`; not with [`replay`](Self::replay).
    pub fn record(&mut self, setup: RecordSetup) -> Result<(), EngineError> {
        if self.started {
            return Err(EngineError::Running);
        }
        self.record = Some(setup);
        Ok(())
    }

    /// Run every feed from recorded files instead of the network (files whose header names
    /// another venue + market are left to that feed; a feed with no file stays idle). No
    /// socket is opened, no REST call made, no DNS lookup done. Before `start`.
    pub fn replay(&mut self, setup: ReplaySetup) -> Result<(), EngineError> {
        if self.started {
            return Err(EngineError::Running);
        }
        self.replay = Some(setup);
        Ok(())
    }

    /// A replay is running and every feed has read all its files.
    pub fn replay_done(&self) -> bool {
        self.replay.is_some()
            && self.feeds.iter().all(|f| {
                f.replay_stats
                    .as_ref()
                    .is_none_or(|s| s.done.load(Ordering::Acquire))
            })
    }

    /// Each replaying feed's counters.
    pub fn replay_stats(&self) -> Vec<(Venue, Market, Arc<ReplayStats>)> {
        self.feeds
            .iter()
            .filter_map(|f| Some((f.setup.venue, f.setup.market, f.replay_stats.clone()?)))
            .collect()
    }

    /// Each recorded feed's counters: the tap (feed side: records, bytes, drops) and the
    /// writer (records, raw and file bytes, frames, files, write errors).
    pub fn record_stats(&self) -> Vec<(Venue, Market, Arc<TapStats>, Arc<RecorderStats>)> {
        self.feeds
            .iter()
            .filter_map(|f| {
                let (t, w) = f.record_stats.clone()?;
                Some((f.setup.venue, f.setup.market, t, w))
            })
            .collect()
    }

    /// The symbols known so far (ids are global across feeds). Gate futures contract sizes
    /// (`contract_multiplier`) are filled in by [`start`](Self::start) (first round) and
    /// [`collect_metrics`](Self::collect_metrics) (later answers); see
    /// [`contract_multiplier`](Self::contract_multiplier).
    pub fn registry(&self) -> &SymbolRegistry {
        &self.registry
    }

    /// A new consumer: one ring per feed. The first consumer also records wire-to-strategy
    /// latency. Its rings reach the feeds ahead of any of its binds, so every error and status
    /// of those binds is delivered, whether they came before `start` or after.
    /// [`EngineError::CommandQueueFull`] if a feed has not taken its previous commands yet.
    pub fn consumer(&mut self) -> Result<StrategyRx, EngineError> {
        if self.consumers >= feed::MAX_CONSUMERS {
            return Err(EngineError::TooManyConsumers);
        }
        // The consumer's producer goes into each feed's command queue now, before or after
        // `start`, so it precedes every bind for this consumer in that queue: a feed may route
        // a bind's error while it applies the bind (review finding 1), and the ring must be
        // there to receive it. Room is checked first so that no feed gets a half consumer.
        if self.feeds.iter().any(|f| f.commands.is_full()) {
            return Err(EngineError::CommandQueueFull);
        }
        let id = self.consumers;
        self.consumers += 1;
        let mut rings = Vec::new();
        let mut latency = Vec::new();
        let bell = Arc::new(ring::Doorbell::new());
        for f in &mut self.feeds {
            let (mut tx, rx) = ring::channel(&self.ring_cfg);
            tx.set_doorbell(bell.clone());
            rings.push((f.setup.venue, f.setup.market, rx));
            if let Some(r) = f.strategy_rec.take() {
                latency.push(r);
            }
            f.commands
                .push(Command::AddConsumer {
                    consumer: id,
                    producer: tx,
                })
                .map_err(|_| EngineError::CommandQueueFull)?;
        }
        if latency.len() != rings.len() {
            latency.clear();
        }
        Ok(StrategyRx {
            id: ConsumerId(id),
            rings,
            latency,
            next: 0,
            idle_polls: 0,
            bell,
            spin: DEFAULT_SPIN,
        })
    }

    fn resolve(
        &mut self,
        channel: &str,
    ) -> Result<(usize, Kind, Option<SymbolId>, Channel), EngineError> {
        let ch = Channel::parse(channel)?;
        let fi = self
            .feeds
            .iter()
            .position(|f| f.setup.venue == ch.venue && f.setup.market == ch.market)
            .ok_or_else(|| {
                EngineError::Channel(ChannelError::NotOffered {
                    input: channel.to_string(),
                    venue: ch.venue.as_str(),
                    market: ch.market.as_str(),
                    kind: ch.kind.as_str(),
                    why: "this venue and market is not configured (add a feed for it)",
                })
            })?;
        if ch.kind.is_private() && self.feeds[fi].setup.credentials.is_none() {
            return Err(EngineError::Channel(ChannelError::NoCredentials {
                channel: channel.to_string(),
                venue: ch.venue.as_str(),
                market: ch.market.as_str(),
            }));
        }
        let sym = match &ch.symbol {
            None => None,
            Some(name) => {
                let f = &mut self.feeds[fi];
                match self.registry.lookup(ch.venue, ch.market, name.as_bytes()) {
                    Some(id) if f.setup.symbols.iter().any(|(i, _)| *i == id) => Some(id),
                    _ if self.started => {
                        return Err(EngineError::UndeclaredSymbol {
                            symbol: name.clone(),
                        })
                    }
                    _ => {
                        let id = self
                            .registry
                            .register(SymbolMeta::new(ch.venue, ch.market, name));
                        f.setup.symbols.push((id, name.clone()));
                        Some(id)
                    }
                }
            }
        };
        Ok((fi, ch.kind, sym, ch))
    }

    /// Deliver `channel` to `consumer`. Refused at once if the name is malformed, the venue or
    /// market is not configured, or a private channel has no credentials.
    pub fn bind(&mut self, channel: &str, consumer: ConsumerId) -> Result<Channel, EngineError> {
        let (fi, kind, symbol, ch) = self.resolve(channel)?;
        self.feeds[fi]
            .commands
            .push(Command::Bind {
                kind,
                symbol,
                consumer: consumer.0,
            })
            .map_err(|_| EngineError::CommandQueueFull)?;
        Ok(ch)
    }

    /// Stop delivering `channel` to `consumer`; the venue subscription ends when no consumer
    /// needs it.
    pub fn unbind(&mut self, channel: &str, consumer: ConsumerId) -> Result<Channel, EngineError> {
        let (fi, kind, symbol, ch) = self.resolve(channel)?;
        self.feeds[fi]
            .commands
            .push(Command::Unbind {
                kind,
                symbol,
                consumer: consumer.0,
            })
            .map_err(|_| EngineError::CommandQueueFull)?;
        Ok(ch)
    }

    /// Start every feed thread. A Gate futures feed also starts its contracts thread (see
    /// [`contract_multiplier`](Self::contract_multiplier)); `start` waits for its first round
    /// of answers, at most 5 s, before returning. A host that does not resolve is no longer an
    /// error here: its connections retry (DNS included) with backoff.
    pub fn start(&mut self) -> Result<(), EngineError> {
        if self.started {
            return Err(EngineError::Running);
        }
        for f in &mut self.feeds {
            let setup = f.setup.clone();
            let shared = feed::new_shared(&setup, f.counters.clone());
            f.shared = Some(shared.clone());
            let (dec, apply, ring) = f.recorders.take().ok_or(EngineError::RecordersTaken)?;
            let ca = setup.extra_ca_pem.clone().map(CaCert::Pem);
            // One trust rule for WebSocket and REST: the extra CA for this feed's own hosts.
            let ca_hosts = ca_hosts(&setup);
            let control_cfg = ControlConfig {
                extra_root_ca: ca.clone(),
                extra_ca_hosts: ca_hosts.clone(),
                core: self.control_core,
                // Gate.io signs private subscribes with a `time` that must be within 60 s of
                // its server (protocols.md §2): the control thread keeps the offset
                // (`net::clock`). MEXC measures its own (it re-measures on `700003`).
                server_time_url: (setup.venue == Venue::Gateio && setup.credentials.is_some())
                    .then(|| {
                        format!(
                            "{}{}",
                            setup.rest_url.trim_end_matches('/'),
                            crate::net::clock::GATE_TIME_PATH
                        )
                    }),
                ..ControlConfig::default()
            };
            if setup.venue == Venue::Gateio
                && setup.market == Market::Futures
                && self.replay.is_none()
            {
                // Contract sizes (issue 13, finding 7): fetched on a control thread of their
                // own, never on the feed thread; see `feed::contracts`.
                let stop = Arc::new(AtomicBool::new(false));
                let (table, _join) = feed::contracts::spawn(
                    &setup.rest_url,
                    &setup.symbols,
                    control_cfg.clone(),
                    stop.clone(),
                )?;
                f.contracts = Some((table, stop));
            }
            let (control, replay_job) = match &self.replay {
                None => {
                    let (control, _control_join) = ControlThread::spawn(control_cfg.clone())?;
                    // The first signed Gate.io subscribe goes out as soon as the socket opens:
                    // give the control thread's first clock measurement a bounded head start.
                    control.wait_clock(Duration::from_secs(3));
                    (control, None)
                }
                Some(rp) => {
                    let (control, inject) = ControlClient::detached(4096);
                    let mut sizes = std::collections::BTreeMap::new();
                    let files: Vec<std::path::PathBuf> = rp
                        .files
                        .iter()
                        .filter(|p| {
                            crate::record::read_meta(p).is_ok_and(|m| {
                                let mine = m.venue == setup.venue.as_str()
                                    && m.market == setup.market.as_str();
                                if mine {
                                    sizes.extend(m.contract_multipliers);
                                }
                                mine
                            })
                        })
                        .cloned()
                        .collect();
                    // Gate futures: the contract sizes the recording's headers carry stand in
                    // for the contracts thread (no REST in a replay).
                    if setup.venue == Venue::Gateio && setup.market == Market::Futures {
                        let table = feed::contracts::Multipliers::recorded(&setup.symbols, &sizes);
                        f.contracts = Some((table, Arc::new(AtomicBool::new(true))));
                    }
                    let stats = Arc::new(ReplayStats::default());
                    f.replay_stats = Some(stats.clone());
                    (
                        control,
                        Some(ReplayJob {
                            inject,
                            files,
                            setup: rp.clone(),
                            stats,
                        }),
                    )
                }
            };
            let rule = match (setup.venue, setup.gate_obu) {
                (Venue::Mexc, _) => SyncRule::Mexc,
                (Venue::Gateio, true) => SyncRule::GateObu,
                (Venue::Gateio, false) => SyncRule::GateUpdate,
            };
            let mut core = FeedCore::new(&setup, rule, shared, dec, apply, ring);
            // A replay has no REST to reconcile against (and the recording already holds what
            // the stream delivered): no reconciler, the private stream is not held.
            let live_creds = setup.credentials.as_ref().filter(|_| self.replay.is_none());
            if let Some(creds) = live_creds {
                // Private state, complete (issue 17): the start-up state and every gap's
                // reconciliation over signed REST, on a reconciler thread of its own
                // (`feed::recon`), never on the feed thread.
                let (link, _recon_join) = feed::recon::spawn(feed::recon::ReconSpec {
                    venue: setup.venue,
                    market: setup.market,
                    rest_base: setup.rest_url.trim_end_matches('/').to_string(),
                    creds: creds.clone(),
                    symbols: setup.symbols.clone(),
                    control: control_cfg.clone(),
                })?;
                core.recon = Some(link);
            }
            // MEXC: one connection per 30 channels (4 kinds and, since issue 17, a kline
            // channel per MEXC interval for each symbol), each with a rotation spare, plus the
            // private stream; never more than the feed tracks (beyond: `NoShardSlot`, reported).
            let per_symbol = 4 + crate::types::Interval::ALL
                .iter()
                .filter(|i| i.venue_code(Venue::Mexc).is_some())
                .count();
            let max_conns = match setup.venue {
                Venue::Mexc => (2 * (setup.symbols.len() * per_symbol).div_ceil(30) + 2)
                    .clamp(8, feed::mexc::MAX_CONN_SLOTS),
                Venue::Gateio => 8,
            };
            let mut rcfg = ReactorConfig {
                core: setup.core,
                wait: wait_of(setup.wait),
                framing: setup.framing,
                max_conns,
                ..ReactorConfig::default()
            };
            if self.replay.is_some() {
                rcfg.resolver = Arc::new(crate::record::replay::NoResolver);
            }
            let mut public = ConnSpec::new(setup.ws_url.clone());
            let mut private = ConnSpec::new(setup.private_ws_url.clone());
            for s in [&mut public, &mut private] {
                s.extra_root_ca = ca.clone();
                s.extra_ca_hosts = ca_hosts.clone();
                s.idle_timeout = Some(setup.idle_timeout);
                s.max_message_size = setup.max_message_bytes;
                s.max_frame_size = setup.max_message_bytes;
                s.so_rcvbuf = setup.so_rcvbuf;
                if setup.venue == Venue::Gateio && setup.market == Market::Futures {
                    let (k, v) = crate::exchange::gateio::SIZE_DECIMAL_HEADER;
                    s.headers.push((k.to_string(), v.to_string()));
                }
            }
            // A private stream's login is signed and its URL holds a listen key: its outbound
            // frames are recorded as lengths only.
            private.record_redact_out = true;
            let tap = match &self.record {
                Some(rs) => {
                    let meta = crate::record::FileMeta {
                        format_version: crate::record::FORMAT_VERSION,
                        cexfeed_version: env!("CARGO_PKG_VERSION").to_string(),
                        venue: setup.venue.as_str().to_string(),
                        market: setup.market.as_str().to_string(),
                        symbols: setup.symbols.iter().map(|(_, n)| n.clone()).collect(),
                        file_seq: 0,
                        opened_wall_ns: 0,
                        config: rs.config_text.clone(),
                        contract_multipliers: Default::default(),
                    };
                    let name = format!("{}-{}", setup.venue.as_str(), setup.market.as_str());
                    // Gate futures: each file's header carries the contract sizes known when it
                    // is opened (at its first frame, after the first round of fetches in
                    // practice), so a replay converts sizes as the live run did.
                    let refresh = f.contracts.as_ref().map(|(t, _)| {
                        let t = t.clone();
                        Box::new(move |m: &mut crate::record::FileMeta| {
                            for (_, name, q) in &t.symbols {
                                if let Some(q) = q.get() {
                                    m.contract_multipliers.insert(name.clone(), q.to_string());
                                }
                            }
                        }) as crate::record::MetaRefresh
                    });
                    let (rec, tap) = Recorder::start_with(rs, meta, &name, refresh)
                        .map_err(EngineError::Record)?;
                    f.record_stats = Some((rec.tap_stats.clone(), rec.stats.clone()));
                    f.recorder = Some(rec);
                    Some(tap)
                }
                None => None,
            };
            let name = format!("feed-{}-{}", setup.venue.as_str(), setup.market.as_str());
            let stop_flag;
            let net;
            let join = match setup.venue {
                Venue::Gateio => {
                    let h = GateFeed::new(core, control, f.commands.clone(), setup.clone());
                    let mut r = Reactor::new(rcfg, h)?;
                    let ps = r.add_spec(public)?;
                    let vs = if setup.credentials.is_some() {
                        Some(r.add_spec(private)?)
                    } else {
                        None
                    };
                    r.handler_mut().set_specs(ps, vs);
                    r.open(ps)?;
                    if let Some(t) = tap {
                        r.set_tap(t);
                    }
                    stop_flag = r.stop_flag();
                    net = r.counters();
                    spawn_feed(name, r, replay_job, |h: GateFeed| h.core)
                }
                Venue::Mexc => {
                    let h = MexcFeed::new(core, control, f.commands.clone(), setup.clone());
                    let mut r = Reactor::new(rcfg, h)?;
                    // Public shards and the private (listen-key) connection; see MexcFeed.
                    MexcFeed::install(&mut r, public, private)?;
                    if let Some(t) = tap {
                        r.set_tap(t);
                    }
                    stop_flag = r.stop_flag();
                    net = r.counters();
                    spawn_feed(name, r, replay_job, |h: MexcFeed| h.into_core())
                }
            };
            f.stop = Some(stop_flag);
            f.net = Some(net);
            f.join = Some(join.map_err(EngineError::Spawn)?);
        }
        self.started = true;
        // Wait (bounded) for the first round of contract sizes so the registry carries them
        // before anything is consumed; later answers are folded in by `contract_multiplier`
        // readers and `collect_metrics`.
        let deadline = std::time::Instant::now() + CONTRACTS_START_WAIT;
        for f in &self.feeds {
            if let Some((t, _)) = &f.contracts {
                while !t.first_round_done.load(Ordering::Acquire)
                    && std::time::Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        }
        self.fold_contract_multipliers();
        Ok(())
    }

    /// Gate futures: the base-asset quantity of one contract of `symbol` (`quanto_multiplier`),
    /// once fetched; `None` before, after a permanent failure, or for a symbol that is not a
    /// Gate futures contract of a started engine (issue 13, finding 7).
    pub fn contract_multiplier(&self, symbol: SymbolId) -> Option<Qty> {
        self.feeds
            .iter()
            .filter_map(|f| f.contracts.as_ref())
            .find_map(|(t, _)| t.get(symbol))
    }

    /// Contract-size fetches that failed so far, and the last failure (`contract: why`).
    pub fn contract_fetch_failures(&self) -> (u64, Option<String>) {
        let mut n = 0;
        let mut last = None;
        for (t, _) in self.feeds.iter().filter_map(|f| f.contracts.as_ref()) {
            n += t.failures.load(Ordering::Relaxed);
            if let Some(e) = t
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
            {
                last = Some(e);
            }
        }
        (n, last)
    }

    /// Copy known contract multipliers into the registry's metadata.
    fn fold_contract_multipliers(&mut self) {
        for f in &self.feeds {
            let Some((t, _)) = &f.contracts else { continue };
            for (id, _, m) in &t.symbols {
                if let Some(m) = m.get() {
                    if self.registry.meta(*id).contract_multiplier != Some(*m) {
                        let mut meta = self.registry.meta(*id).clone();
                        meta.contract_multiplier = Some(*m);
                        self.registry.register(meta);
                    }
                }
            }
        }
    }

    /// Live views of every feed for monitoring threads (relaxed atomics; no lock).
    pub fn views(&self) -> Vec<FeedView> {
        self.feeds
            .iter()
            .filter_map(|f| {
                Some(FeedView {
                    venue: f.setup.venue,
                    market: f.setup.market,
                    shared: f.shared.clone()?,
                    net: f.net.clone(),
                    private: f.setup.credentials.is_some(),
                })
            })
            .collect()
    }

    /// Feeds whose thread has died (panic, or its event loop failed) since `start`: their books
    /// are no longer maintained. Watches the join handles from the cold side too, so a thread
    /// that ended without flagging itself is still found (and flagged). Cold path; poll it.
    pub fn dead_feeds(&self) -> Vec<(Venue, Market)> {
        let mut dead = Vec::new();
        for f in &self.feeds {
            let Some(shared) = &f.shared else { continue };
            let stopped = f.stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed));
            let ended = f.join.as_ref().is_some_and(|j| j.is_finished());
            if ended && !stopped && !shared.is_dead() {
                shared.mark_dead();
            }
            if shared.is_dead() {
                dead.push((f.setup.venue, f.setup.market));
            }
        }
        dead
    }

    /// Test hook: the private feed of `venue`/`market` reports a 10 s `PrivateGap` at its next
    /// housekeeping tick and reconciles it (no reconnect). Whether the feed exists.
    #[doc(hidden)]
    pub fn inject_private_gap(&self, venue: Venue, market: Market) -> bool {
        self.feeds
            .iter()
            .find(|f| f.setup.venue == venue && f.setup.market == market)
            .and_then(|f| f.shared.as_ref())
            .map(|s| s.gap_requested.store(true, Ordering::Relaxed))
            .is_some()
    }

    /// Test hook: make the feed thread of `venue`.`market` panic at its next housekeeping
    /// tick (within ~100 ms), to exercise what a dead feed looks like. Returns whether such a
    /// running feed exists.
    #[doc(hidden)]
    pub fn inject_feed_panic(&self, venue: Venue, market: Market) -> bool {
        self.feeds
            .iter()
            .find(|f| f.setup.venue == venue && f.setup.market == market)
            .and_then(|f| f.shared.as_ref())
            .map(|s| s.panic_requested.store(true, Ordering::Relaxed))
            .is_some()
    }

    /// Ask every recorder for a snapshot and merge what arrived (cold thread); also folds
    /// late contract sizes into the registry.
    pub fn collect_metrics(&mut self) {
        self.fold_contract_multipliers();
        for f in &mut self.feeds {
            if let Some(c) = f.collector.as_mut() {
                c.collect();
                c.request();
            }
        }
    }

    /// Cumulative latency per stage, merged over feeds.
    pub fn latency(&self) -> Vec<(Stage, hdrhistogram::Histogram<u64>)> {
        Stage::ALL
            .iter()
            .map(|&s| {
                let mut h = metrics::new_histogram();
                for f in &self.feeds {
                    if let Some(c) = &f.collector {
                        let _ = h.add(c.stage(s).total());
                    }
                }
                (s, h)
            })
            .collect()
    }

    /// p50 / p99 / p99.9 / max per stage over everything collected so far.
    pub fn latency_percentiles(&self) -> Vec<(Stage, Percentiles)> {
        self.latency()
            .into_iter()
            .map(|(s, h)| (s, Percentiles::of(&h)))
            .collect()
    }

    /// Stop every feed and return what they leave (books for reports and comparison).
    pub fn stop(&mut self) -> Vec<FeedFinal> {
        for f in &self.feeds {
            if let Some(s) = &f.stop {
                s.store(true, Ordering::Relaxed);
            }
            if let Some((_, s)) = &f.contracts {
                s.store(true, Ordering::Relaxed);
            }
        }
        let mut out = Vec::new();
        for f in &mut self.feeds {
            if let Some(j) = f.join.take() {
                let mut fin = j.join().unwrap_or_else(|_| FeedFinal {
                    error: Some(FeedExit::Panicked),
                    ..Default::default()
                });
                fin.venue = Some(f.setup.venue);
                fin.market = Some(f.setup.market);
                if let Some(rec) = f.recorder.take() {
                    fin.recorded = rec.finish();
                }
                out.push(fin);
            }
        }
        self.started = false;
        out
    }
}

/// Test and profiling hook: when set, every feed thread calls it first (e.g. to mark the thread
/// for a counting allocator or a profiler). Not used by the engine itself.
pub static FEED_THREAD_START: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// A feed thread's replay: its files, the injector of its detached control client.
struct ReplayJob {
    inject: crate::net::ReplyInjector,
    files: Vec<std::path::PathBuf>,
    setup: ReplaySetup,
    stats: Arc<ReplayStats>,
}

fn spawn_feed<H, F>(
    name: String,
    mut r: Reactor<H>,
    replay: Option<ReplayJob>,
    core_of: F,
) -> std::io::Result<JoinHandle<FeedFinal>>
where
    H: crate::net::Handler + feed::BindingHook + Send + 'static,
    F: FnOnce(H) -> FeedCore + Send + 'static,
{
    std::thread::Builder::new().name(name).spawn(move || {
        let shared = r.handler_mut().core_mut().shared.clone();
        // A panic must not leave a silent hole: the loop runs under `catch_unwind`, and a feed
        // that ends without being stopped (panic or `poll` failure) is declared dead below.
        let res = catch_unwind(AssertUnwindSafe(|| {
            if let Some(f) = FEED_THREAD_START.get() {
                f();
            }
            match &replay {
                None => r.run(),
                Some(job) => {
                    let stop = r.stop_flag();
                    crate::record::replay::run(
                        &mut r,
                        &job.inject,
                        &job.files,
                        &job.setup,
                        &job.stats,
                        &stop,
                        // Room for a full message's events (a Gate trade batch, a MEXC
                        // aggregated push) in every consumer ring.
                        |h: &mut H| h.core_mut().rings_have_room(1024),
                    );
                    // Done: the books and rings stay as they are until the engine stops.
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Ok(())
                }
            }
        }));
        let error = match res {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(FeedExit::Net(e)),
            Err(_) => Some(FeedExit::Panicked),
        };
        if error.is_some() {
            // Atomics first (cannot fail), then tell the consumers through the producers this
            // thread still owns; the feed's own state may be inconsistent, hence the second
            // `catch_unwind`. The books' shared state is set again afterwards.
            shared.mark_dead();
            let _ = catch_unwind(AssertUnwindSafe(|| {
                let h = r.handler_mut();
                let commands = h.commands().clone();
                h.core_mut().feed_down(&commands, now_ns());
            }));
            shared.mark_dead();
        }
        let fin = catch_unwind(AssertUnwindSafe(move || {
            let core = core_of(r.into_handler());
            let (dropped, conflated, sent) = core.ring_overruns();
            FeedFinal {
                venue: Some(core.venue),
                market: Some(core.market),
                books: core.dump_books(),
                ring_dropped: dropped,
                ring_conflated: conflated,
                ring_sent: sent,
                error: None,
                recorded: Vec::new(),
            }
        }));
        let mut fin = fin.unwrap_or_default();
        fin.error = error;
        fin
    })
}

#[cfg(test)]
mod tests {
    /// Issue 12, defect 5 (CA trust): a feed trusts its extra CA for its own configured hosts
    /// and no other, and hands the same list to the reactor and the control thread.
    #[test]
    fn issue12_defect5_extra_ca_hosts_are_the_feeds_own_hosts() {
        let toml = "[[feed]]\nvenue = \"mexc\"\nmarket = \"spot\"\nsymbols = [\"BTCUSDT\"]\nws_url = \"wss://LOCALHOST:9443/ws\"\nrest_url = \"https://127.0.0.1:9444\"\n";
        let r = crate::config::Config::from_toml(toml, "t")
            .unwrap()
            .resolve()
            .unwrap();
        assert_eq!(
            super::ca_hosts(&r.engine.feeds[0]),
            ["LOCALHOST", "127.0.0.1"]
        );
        let toml = "[[feed]]\nvenue = \"gateio\"\nmarket = \"spot\"\nsymbols = [\"BTC_USDT\"]\n";
        let r = crate::config::Config::from_toml(toml, "t")
            .unwrap()
            .resolve()
            .unwrap();
        let hosts = super::ca_hosts(&r.engine.feeds[0]);
        assert!(
            !hosts.is_empty() && hosts.iter().all(|h| h.contains("gate")),
            "{hosts:?}"
        );
    }
}
