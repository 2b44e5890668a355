//! The whole hot path on the real feed thread — socket read → TLS → WebSocket frame → venue
//! decoder (Gate.io spot and futures, MEXC) → book sync → book → ring — against the loopback venue, with a counting allocator
//! armed after warm-up. Plain `ws://`: zero allocations. `wss://`: exactly one per TLS record
//! received (rustls 0.23's buffered API, documented in ARCHITECTURE.md) and nothing else.

use cexfeed::config::{Runtime, WaitMode};
mod support;
use cexfeed::engine::{Engine, EngineConfig, FEED_THREAD_START};
use cexfeed::types::{Market, Venue};
use cexfeed_venue::{Venue as LoopbackVenue, VenueConfig};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::loopback_feeds;

struct Counting;

static ARMED: AtomicBool = AtomicBool::new(false);
static FEED_ALLOCS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static IS_FEED: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    if ARMED.load(Ordering::Relaxed) && IS_FEED.with(|f| f.get()) {
        FEED_ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note();
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(p, l, n) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The counters are process-wide: the tests must not overlap.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn mark_feed_thread() {
    IS_FEED.with(|f| f.set(true));
}

/// Runs one Gate.io feed (spot obu or futures order_book_update) against the venue; returns
/// (allocations on the feed thread while armed, TLS records received while armed, messages).
fn run(tls: bool, venue_id: Venue, market: Market) -> (u64, u64, u64) {
    let _ = FEED_THREAD_START.set(mark_feed_thread);
    let venue = LoopbackVenue::start(VenueConfig {
        tls,
        rate_per_sec: 2_000,
        private_period: Duration::ZERO,
        gate_full_period: Duration::ZERO,
        ..VenueConfig::default()
    })
    .unwrap();
    let rt = Runtime {
        book_depth: 2_000,
        ..Runtime::default()
    };
    let mut feeds: Vec<_> =
        loopback_feeds(&venue, &rt, WaitMode::Block, false, Duration::from_secs(10))
            .into_iter()
            .filter(|f| f.venue == venue_id && f.market == market)
            .collect();
    feeds[0].ping_interval = Duration::from_secs(3600);
    let mut engine = Engine::new(EngineConfig {
        feeds,
        ring_capacity: 8192,
        top_n: 10,
        book_pool: 16_384,
        control_core: None,
    })
    .unwrap();
    let mut rx = engine.consumer().unwrap();
    let syms: &[&str] = if venue_id == Venue::Mexc {
        &["BTCUSDT", "ETHUSDT"]
    } else {
        &["BTC_USDT", "ETH_USDT"]
    };
    for s in syms {
        for k in ["orderbook", "trades", "bbo"] {
            let ch = format!("{}.{}.{k}.{s}", venue_id.as_str(), market.as_str());
            engine.bind(&ch, rx.id()).unwrap();
        }
    }
    engine.start().unwrap();
    let views = engine.views();
    let drain = |rx: &mut cexfeed::engine::StrategyRx, until: Instant| {
        let mut n = 0u64;
        while Instant::now() < until {
            match rx.try_recv() {
                Some(ev) => {
                    rx.release(&ev);
                    n += 1;
                }
                None => std::thread::sleep(Duration::from_micros(200)),
            }
        }
        n
    };
    // Warm-up: books live, buffers at their working size.
    drain(&mut rx, Instant::now() + Duration::from_secs(3));
    let net = views[0].net.clone().unwrap();
    let msgs0 = views[0].shared.counters.snapshot().messages;
    let rec0 = net.snapshot().tls_records_rx;
    ARMED.store(true, Ordering::SeqCst);
    let mut events = drain(&mut rx, Instant::now() + Duration::from_secs(3));
    // Stop the traffic and let the feed go idle before disarming, so the feed's counters
    // (published once per loop iteration) cover exactly the records it processed while armed.
    venue.pause(true);
    events += drain(&mut rx, Instant::now() + Duration::from_millis(500));
    ARMED.store(false, Ordering::SeqCst);
    let allocs = FEED_ALLOCS.swap(0, Ordering::SeqCst);
    let records = net.snapshot().tls_records_rx - rec0;
    let msgs = views[0].shared.counters.snapshot().messages - msgs0;
    let c = views[0].shared.counters.snapshot();
    assert_eq!(c.decode_errors, 0);
    assert!(events > 100, "only {events} events reached the consumer");
    engine.stop();
    venue.stop();
    (allocs, records, msgs)
}

#[test]
fn plain_pipeline_allocates_nothing() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for (venue, market) in [
        (Venue::Gateio, Market::Spot),
        (Venue::Gateio, Market::Futures),
        (Venue::Mexc, Market::Spot),
    ] {
        let (allocs, _, msgs) = run(false, venue, market);
        assert!(msgs > 500, "{venue:?} {market:?}: only {msgs} messages");
        assert_eq!(
            allocs, 0,
            "{venue:?} {market:?}: {allocs} allocations over {msgs} messages"
        );
    }
}

#[test]
fn tls_pipeline_allocates_once_per_record_only() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (allocs, records, msgs) = run(true, Venue::Gateio, Market::Spot);
    assert!(msgs > 500 && records > 0, "msgs {msgs} records {records}");
    assert_eq!(
        allocs, records,
        "{allocs} allocations for {records} TLS records ({msgs} messages)"
    );
}
