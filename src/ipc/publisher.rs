//! The publishing side: a consumer of the engine whose events go to iceoryx2 services.

use super::{
    cleanup_dead_nodes, ice, open_service, service_name, IpcError, RecordHeader, ServiceShape,
    CLEANUP_EVERY_NS, CONNECT_CHECK_NS, DEFAULT_MAX_SUBSCRIBERS, DEFAULT_PREFIX, STATUS_SERVICE,
};
use crate::channel::{Channel, Kind};
use crate::engine::{Engine, StrategyRx};
use crate::event::Level;
use crate::ring::{Body, Event, StatusKind, NO_SYMBOL};
use crate::types::{now_ns, SymbolId};
use iceoryx2::port::publisher::Publisher as IcePublisher;
use iceoryx2::port::update_connections::UpdateConnections;
use iceoryx2::prelude::*;
use iceoryx2::service::port_factory::publish_subscribe::PortFactory;
use iceoryx2::service::port_factory::PortFactory as _;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Events drained from the ring per [`Publisher::poll`] at most.
const POLL_BATCH: usize = 256;

/// Routing key of a service: venue, market, channel kind and symbol (`NO_SYMBOL` for the
/// account-wide kinds).
fn key(venue: u8, market: u8, kind: Kind, symbol: SymbolId) -> u64 {
    let k: u64 = match kind {
        Kind::OrderBook => 0,
        Kind::Trades => 1,
        Kind::Bbo => 2,
        Kind::Ticker => 3,
        Kind::Orders => 4,
        Kind::Fills => 5,
        Kind::Balances => 6,
        Kind::Positions => 7,
        Kind::Kline(i) => 0x100 | i as u64,
    };
    (venue as u64) << 48 | (market as u64) << 40 | k << 16 | symbol.0 as u64
}

/// The channel kind an event belongs to; `None` = the status service.
fn kind_of(body: &Body) -> Option<Kind> {
    match body {
        Body::Trade { .. } => Some(Kind::Trades),
        Body::Bbo { .. } => Some(Kind::Bbo),
        Body::Ticker { .. } => Some(Kind::Ticker),
        Body::Book { .. } => Some(Kind::OrderBook),
        Body::Order { .. } => Some(Kind::Orders),
        Body::Fill { .. } => Some(Kind::Fills),
        Body::Balance { .. } => Some(Kind::Balances),
        Body::Position { .. } => Some(Kind::Positions),
        Body::Kline { interval, .. } => Some(Kind::Kline(*interval)),
        // A book's state change travels with its book's records.
        Body::Status {
            kind: StatusKind::Book,
            ..
        } => Some(Kind::OrderBook),
        Body::Status { .. } | Body::Error { .. } | Body::Missed { .. } => None,
    }
}

/// Channels bound on an engine for publishing, before the iceoryx2 side is opened. Make it
/// before [`Engine::start`]; then [`open`](Self::open) it on the thread that will publish or
/// [`spawn`](Self::spawn) a thread for it.
pub struct PublishPlan {
    rx: StrategyRx,
    /// (routing key, channel name, book service).
    routes: Vec<(u64, String, bool)>,
    prefix: String,
    buffer: usize,
    max_subscribers: usize,
    top_n: usize,
}

impl PublishPlan {
    /// Bind every channel in `channels` to a new consumer of `engine`. `prefix` names the
    /// services (`None` = [`DEFAULT_PREFIX`]); `buffer` = records each subscriber may hold per
    /// service before its oldest is overwritten.
    pub fn new<S: AsRef<str>>(
        engine: &mut Engine,
        channels: &[S],
        prefix: Option<&str>,
        buffer: usize,
    ) -> Result<PublishPlan, IpcError> {
        let rx = engine.consumer()?;
        let mut routes = Vec::with_capacity(channels.len());
        for c in channels {
            let name = c.as_ref();
            let ch: Channel = engine
                .bind(name, rx.id())
                .map_err(|source| IpcError::Bind {
                    channel: name.to_string(),
                    source: Box::new(source),
                })?;
            let symbol = match &ch.symbol {
                Some(s) => engine
                    .registry()
                    .lookup(ch.venue, ch.market, s.as_bytes())
                    .unwrap_or(NO_SYMBOL),
                None => NO_SYMBOL,
            };
            let k = key(ch.venue as u8, ch.market as u8, ch.kind, symbol);
            if !routes.iter().any(|r: &(u64, String, bool)| r.0 == k) {
                routes.push((k, ch.to_string(), ch.kind == Kind::OrderBook));
            }
        }
        Ok(PublishPlan {
            rx,
            routes,
            prefix: prefix.unwrap_or(DEFAULT_PREFIX).to_string(),
            buffer: buffer.max(1),
            max_subscribers: DEFAULT_MAX_SUBSCRIBERS,
            top_n: engine.top_n(),
        })
    }

    /// Most subscribers per service (default [`DEFAULT_MAX_SUBSCRIBERS`]).
    pub fn max_subscribers(mut self, n: usize) -> Self {
        self.max_subscribers = n.max(1);
        self
    }

    /// The channel names this plan publishes (canonical form).
    pub fn channels(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|r| r.1.as_str())
    }

    /// Open the iceoryx2 node, services and publishers on the calling thread.
    pub fn open(self) -> Result<Publisher, IpcError> {
        super::quiet_logs();
        let node = NodeBuilder::new()
            .signal_handling_mode(SignalHandlingMode::Disabled)
            .create::<ipc::Service>()
            .map_err(ice("create node"))?;
        cleanup_dead_nodes(&node);
        let max_levels = 2 * self.top_n.max(1);
        let mut services = Vec::with_capacity(self.routes.len() + 1);
        let mut route = HashMap::with_capacity(self.routes.len());
        let names = self
            .routes
            .iter()
            .map(|r| (Some(r.0), r.1.clone(), r.2))
            .chain(std::iter::once((None, STATUS_SERVICE.to_string(), false)));
        for (k, channel, book) in names {
            let factory = open_service(
                &node,
                &service_name(&self.prefix, &channel),
                ServiceShape {
                    buffer: self.buffer,
                    history: usize::from(book),
                    max_subscribers: self.max_subscribers,
                },
            )?;
            let port = factory
                .publisher_builder()
                .initial_max_slice_len(if book { max_levels } else { 1 })
                .max_loaned_samples(2)
                .create()
                .map_err(ice("create publisher"))?;
            if let Some(k) = k {
                route.insert(k, services.len());
            }
            services.push(Svc {
                _factory: factory,
                port,
                seq: 0,
            });
        }
        let status = services.len() - 1;
        let epoch = now_ns().max(1);
        Ok(Publisher {
            rx: self.rx,
            node,
            services,
            route,
            status,
            epoch,
            stats: Arc::new(Counters::default()),
            last_connect_ns: 0,
            ring_missed: 0,
        })
    }

    /// Publish from a thread of its own, pinned to `core` if given, until
    /// [`PublisherThread::stop`]. Idle: spins briefly, then parks on the engine's doorbell
    /// (a futex the feed threads ring), so it can share a core and still wakes within the
    /// kernel's wake-up latency.
    pub fn spawn(self, core: Option<usize>) -> Result<PublisherThread, IpcError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, ready) = std::sync::mpsc::channel();
        let stop2 = stop.clone();
        let join = std::thread::Builder::new()
            .name("cexfeed-ipc".into())
            .spawn(move || {
                if let Some(c) = core {
                    core_affinity::set_for_current(core_affinity::CoreId { id: c });
                }
                let mut p = match self.open() {
                    Ok(p) => {
                        let _ = tx.send(Ok(p.stats.clone()));
                        p
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                while !stop2.load(Ordering::Relaxed) {
                    if p.poll() == 0 {
                        // Park until a feed rings (or the next connection check is due).
                        p.wait(std::time::Duration::from_nanos(CONNECT_CHECK_NS));
                    }
                }
            })
            .map_err(|e| IpcError::Thread(e.to_string()))?;
        let stats = ready
            .recv()
            .map_err(|_| IpcError::Thread("exited before opening".into()))??;
        // Dead-node cleanup walks a directory and allocates: on a cold thread with a node of
        // its own (any node may clean every dead one), never between the publisher's events.
        let (stop3, stats3) = (stop.clone(), stats.clone());
        let cleaner = std::thread::Builder::new()
            .name("cexfeed-ipc-clean".into())
            .spawn(move || {
                let Ok(node) = NodeBuilder::new()
                    .signal_handling_mode(SignalHandlingMode::Disabled)
                    .create::<ipc::Service>()
                else {
                    return;
                };
                let mut last = now_ns();
                while !stop3.load(Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    if now_ns().saturating_sub(last) >= CLEANUP_EVERY_NS {
                        last = now_ns();
                        let c = cleanup_dead_nodes(&node) as u64;
                        stats3.dead_nodes_cleaned.fetch_add(c, Ordering::Relaxed);
                    }
                }
            })
            .map_err(|e| IpcError::Thread(e.to_string()))?;
        Ok(PublisherThread {
            stop,
            join: Some(join),
            cleaner: Some(cleaner),
            stats,
        })
    }
}

struct Svc {
    _factory: PortFactory<ipc::Service, [Level], RecordHeader>,
    port: IcePublisher<ipc::Service, [Level], RecordHeader>,
    seq: u64,
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    failed: AtomicU64,
    unrouted: AtomicU64,
    dead_nodes_cleaned: AtomicU64,
}

/// Publisher counters (monotonic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PublishStats {
    /// Records sent.
    pub published: u64,
    /// Records that could not be loaned or sent (counted, skipped).
    pub failed: u64,
    /// Events for no published channel (cannot happen for bound channels; counted).
    pub unrouted: u64,
    /// Crashed nodes whose resources were removed.
    pub dead_nodes_cleaned: u64,
}

impl Counters {
    fn get(&self) -> PublishStats {
        PublishStats {
            published: self.published.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            unrouted: self.unrouted.load(Ordering::Relaxed),
            dead_nodes_cleaned: self.dead_nodes_cleaned.load(Ordering::Relaxed),
        }
    }
}

/// An open publisher, driven by [`poll`](Self::poll) on one thread.
pub struct Publisher {
    rx: StrategyRx,
    node: Node<ipc::Service>,
    services: Vec<Svc>,
    route: HashMap<u64, usize>,
    status: usize,
    epoch: u64,
    stats: Arc<Counters>,
    last_connect_ns: u64,
    ring_missed: u64,
}

impl Publisher {
    /// Drain up to 256 events from the engine into shared memory; returns how many were
    /// published. Ours allocates nothing; iceoryx2 0.10 allocates one small shared-state
    /// object per loan (`port/details/chunk_mut_shared_state.rs`, `ChunkMutSharedState::new`),
    /// counted in `tests/no_alloc_ipc.rs` against a bare iceoryx2 loop. When idle it lets new
    /// subscribers connect (every 10 ms), so a late one gets the current books at once.
    pub fn poll(&mut self) -> usize {
        let mut n = 0;
        while n < POLL_BATCH {
            let Some(rec) = self.rx.try_recv() else {
                break;
            };
            let ev: Event = *rec.event();
            if let Body::Missed { count } = ev.body {
                self.ring_missed += count;
            }
            let idx = match kind_of(&ev.body) {
                Some(kind) => {
                    let sym = if Kind::PRIVATE.contains(&kind) {
                        NO_SYMBOL
                    } else {
                        ev.header.symbol
                    };
                    let k = key(ev.header.venue as u8, ev.header.market as u8, kind, sym);
                    match self.route.get(&k) {
                        Some(&i) => i,
                        None if kind == Kind::OrderBook
                            && matches!(ev.body, Body::Status { .. }) =>
                        {
                            self.status
                        }
                        None => {
                            self.stats.unrouted.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    }
                }
                None => self.status,
            };
            let (bids, asks): (&[Level], &[Level]) = match rec.book() {
                Some(b) if matches!(ev.body, Body::Book { .. }) => (b.bids(), b.asks()),
                _ => (&[], &[]),
            };
            let svc = &mut self.services[idx];
            let max = svc.port.initial_max_slice_len();
            let nb = bids.len().min(max / 2);
            let na = asks.len().min(max - nb);
            let len = (nb + na).max(1);
            let sent = match svc.port.loan_slice_uninit(len) {
                Ok(mut s) => {
                    svc.seq += 1;
                    let h = s.user_header_mut();
                    h.seq = svc.seq;
                    h.epoch = self.epoch;
                    h.ts_publish_ns = now_ns();
                    h.ring_missed = self.ring_missed;
                    h.n_bids = nb as u16;
                    h.n_asks = na as u16;
                    h.cut = u8::from(nb < bids.len() || na < asks.len());
                    h.event = ev;
                    let s = s.write_from_fn(|i| {
                        if i < nb {
                            bids[i]
                        } else if i < nb + na {
                            asks[i - nb]
                        } else {
                            Level::default()
                        }
                    });
                    s.send().is_ok()
                }
                Err(_) => false,
            };
            drop(rec);
            if sent {
                n += 1;
            } else {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
        if n > 0 {
            self.stats.published.fetch_add(n as u64, Ordering::Relaxed);
        }
        let t = now_ns();
        if n == 0 && t.saturating_sub(self.last_connect_ns) >= CONNECT_CHECK_NS {
            // New subscribers are otherwise connected at the next send; a late one waiting
            // for the current books (history) must not wait for the market to move.
            self.last_connect_ns = t;
            for s in &self.services {
                let _ = s.port.update_connections();
            }
        }
        n
    }

    /// Counters so far.
    pub fn stats(&self) -> PublishStats {
        self.stats.get()
    }

    /// Wait up to `timeout` for the next event to publish (spin, then park; see
    /// [`StrategyRx::wait`]); `true` if one is ready. Stop flags are checked by the caller
    /// between waits.
    pub fn wait(&mut self, timeout: std::time::Duration) -> bool {
        self.rx.wait(timeout)
    }

    /// Remove what crashed iceoryx2 nodes (a `kill -9`ed subscriber) left behind, so their
    /// ports stop counting against `max_subscribers`. Walks iceoryx2's node directory and
    /// allocates: call it from a cold path ([`PublishPlan::spawn`] runs it every second on a
    /// thread of its own), not between events.
    pub fn cleanup_dead_nodes(&self) -> usize {
        let c = cleanup_dead_nodes(&self.node);
        self.stats
            .dead_nodes_cleaned
            .fetch_add(c as u64, Ordering::Relaxed);
        c
    }

    /// The publisher's epoch (its start time, CLOCK_MONOTONIC ns), as written into every record.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Subscribers connected to the service of `idx`-th published channel (status last).
    pub fn subscriber_count(&self) -> usize {
        self.services
            .iter()
            .map(|s| s._factory.dynamic_config().number_of_subscribers())
            .max()
            .unwrap_or(0)
    }
}

/// A publisher on its own thread (see [`PublishPlan::spawn`]).
pub struct PublisherThread {
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
    cleaner: Option<JoinHandle<()>>,
    stats: Arc<Counters>,
}

impl PublisherThread {
    /// Counters so far.
    pub fn stats(&self) -> PublishStats {
        self.stats.get()
    }

    /// Stop publishing (the services go when the thread's node is dropped) and return the
    /// final counters.
    pub fn stop(mut self) -> PublishStats {
        self.halt();
        self.stats.get()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
        if let Some(j) = self.cleaner.take() {
            let _ = j.join();
        }
    }
}

impl Drop for PublisherThread {
    fn drop(&mut self) {
        self.halt();
    }
}
