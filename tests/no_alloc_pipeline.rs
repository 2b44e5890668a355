//! The whole hot path on the real feed thread — socket read → TLS → WebSocket frame → venue
//! decoder (Gate.io spot and futures, MEXC) → book sync → book → ring — against the loopback venue, with a counting allocator
//! armed after warm-up. Plain `ws://`: zero allocations. `wss://`: exactly one per TLS record
//! received (rustls 0.23's buffered API, documented in ARCHITECTURE.md) and nothing else.

use cexfeed::config::{Runtime, WaitMode};
#[path = "support/mod.rs"]
mod support;
use cexfeed::engine::{Engine, EngineConfig, FEED_THREAD_START};
use cexfeed::types::{Market, Venue};
use cexfeed_venue::{Venue as LoopbackVenue, VenueConfig};
use std::time::{Duration, Instant};
use support::loopback_feeds;

#[global_allocator]
static GLOBAL: support::alloc::Counting = support::alloc::Counting;

/// The counters are process-wide: the tests must not overlap.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs one Gate.io feed (spot obu or futures order_book_update) against the venue; returns
/// (allocations on the feed thread and the parked-and-woken strategy thread while armed, TLS records received while armed, messages,
/// large records, gaps + resyncs + reconnects while armed).
/// With `record`, the feed is recorded (issue 15) into a temporary directory and the test also
/// checks that every message of the window went into the recorder's ring.
fn run(tls: bool, venue_id: Venue, market: Market, record: bool) -> (u64, u64, u64, u64, u64) {
    let _ = FEED_THREAD_START.set(support::alloc::mark_thread);
    let venue = LoopbackVenue::start(VenueConfig {
        tls,
        rate_per_sec: 2_000,
        private_period: Duration::ZERO,
        gate_full_period: Duration::ZERO,
        // Issue 17: 1 s candles so open and closed klines flow through the armed window.
        kline_window: Some(Duration::from_secs(1)),
        kline_push_period: Duration::from_millis(200),
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
    let rec_dir = std::env::temp_dir().join(format!(
        "cexfeed-noalloc-rec-{}-{}-{}",
        std::process::id(),
        venue_id.as_str(),
        market.as_str()
    ));
    if record {
        engine
            .record(cexfeed::record::RecordSetup {
                dir: rec_dir.clone(),
                ..Default::default()
            })
            .unwrap();
    }
    let mut rx = engine.consumer().unwrap();
    let syms: &[&str] = if venue_id == Venue::Mexc {
        &["BTCUSDT", "ETHUSDT"]
    } else {
        &["BTC_USDT", "ETH_USDT"]
    };
    for s in syms {
        for k in ["orderbook", "trades", "bbo", "ticker", "kline.1m"] {
            let ch = format!("{}.{}.{k}.{s}", venue_id.as_str(), market.as_str());
            engine.bind(&ch, rx.id()).unwrap();
        }
    }
    engine.start().unwrap();
    let views = engine.views();
    // (events, klines among them).
    let drain = |rx: &mut cexfeed::engine::StrategyRx, until: Instant| {
        let (mut n, mut k) = (0u64, 0u64);
        while Instant::now() < until {
            // The library's blocking receive: spin, then park until the feed thread rings.
            // Dropping the event hands its book slot back.
            if let Some(ev) = rx.recv_timeout(Duration::from_millis(2)) {
                n += 1;
                k += matches!(ev.body, cexfeed::ring::Body::Kline { .. }) as u64;
            }
        }
        (n, k)
    };
    // Warm-up: books live, buffers at their working size.
    drain(&mut rx, Instant::now() + Duration::from_secs(3));
    // Both ends of the armed window are quiet: the venue is paused and the feed idle when the
    // counters are read and the allocator armed, so no record can be counted on one side of the
    // boundary and allocated on the other (a busy machine stretched that gap: CI once counted
    // 1445 records for 1444 allocations).
    venue.pause(true);
    drain(&mut rx, Instant::now() + Duration::from_millis(500));
    let net = views[0].net.clone().unwrap();
    let c0 = views[0].shared.counters.snapshot();
    let msgs0 = c0.messages;
    let rec0 = net.snapshot().tls_records_rx;
    let tap_stats = engine.record_stats().first().map(|(_, _, t, _)| t.clone());
    let tapped0 = tap_stats
        .as_ref()
        .map_or(0, |t| t.records.load(std::sync::atomic::Ordering::Relaxed));
    let large0 = net.snapshot().tls_records_rx_large;
    // The strategy thread (this one) is counted too: its blocking receive (spin, futex park,
    // woken by the feed thread) allocates nothing either.
    support::alloc::mark_thread();
    let wakes0 = rx.wakeups();
    support::alloc::take_marked();
    support::alloc::arm_marked(true);
    venue.pause(false);
    let (mut events, mut klines) = drain(&mut rx, Instant::now() + Duration::from_secs(3));
    // Stop the traffic and let the feed go idle before disarming, so the feed's counters
    // (published once per loop iteration) cover exactly the records it processed while armed.
    venue.pause(true);
    let (e, k) = drain(&mut rx, Instant::now() + Duration::from_millis(500));
    events += e;
    klines += k;
    support::alloc::arm_marked(false);
    let allocs = support::alloc::take_marked();
    let records = net.snapshot().tls_records_rx - rec0;
    let large = net.snapshot().tls_records_rx_large - large0;
    let msgs = views[0].shared.counters.snapshot().messages - msgs0;
    let c = views[0].shared.counters.snapshot();
    assert_eq!(c.decode_errors, 0);
    assert!(events > 100, "only {events} events reached the consumer");
    // The feed thread woke the parked consumer (a lost or missing ring would leave it to its
    // 2 ms timeouts and this at 0).
    assert!(
        rx.wakeups() > wakes0,
        "the feed thread never woke the parked strategy"
    );
    // Issue 17: candles were decoded and delivered inside the armed window.
    assert!(klines > 0, "no kline in the armed window");
    // A gap, resync or reconnect inside the window is not steady state (a REST snapshot, a
    // new connection allocate by design): the caller measures again.
    let disturbed = (c.gaps - c0.gaps) + (c.resyncs - c0.resyncs) + (c.reconnects - c0.reconnects);
    if let Some(t) = &tap_stats {
        use std::sync::atomic::Ordering::Relaxed;
        let tapped = t.records.load(Relaxed) - tapped0;
        assert_eq!(t.dropped.load(Relaxed), 0, "the recorder kept up");
        // Every message (and the pings we sent) went into the ring.
        assert!(tapped >= msgs, "{tapped} records for {msgs} messages");
    }
    let fin = engine.stop();
    if record {
        assert!(!fin[0].recorded.is_empty(), "no file written");
        let _ = std::fs::remove_dir_all(&rec_dir);
    }
    venue.stop();
    (allocs, records, msgs, large, disturbed)
}

/// `run` until a window without gap, resync or reconnect (at most 3 tries; a busy machine can
/// make the venue's paced stream stutter). Panics if every try was disturbed.
fn steady(tls: bool, venue_id: Venue, market: Market, record: bool) -> (u64, u64, u64, u64) {
    for attempt in 1..=3 {
        let (allocs, records, msgs, large, disturbed) = run(tls, venue_id, market, record);
        if disturbed == 0 {
            return (allocs, records, msgs, large);
        }
        eprintln!("{venue_id:?} {market:?}: try {attempt} saw {disturbed} gaps/resyncs/reconnects; measuring again");
    }
    panic!("{venue_id:?} {market:?}: no undisturbed window in 3 tries");
}

#[test]
fn plain_pipeline_allocates_nothing() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for (venue, market) in [
        (Venue::Gateio, Market::Spot),
        (Venue::Gateio, Market::Futures),
        (Venue::Mexc, Market::Spot),
    ] {
        let (allocs, _, msgs, _) = steady(false, venue, market, false);
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
    let (allocs, records, msgs, large) = steady(true, Venue::Gateio, Market::Spot, false);
    assert!(msgs > 500 && records > 0, "msgs {msgs} records {records}");
    // One allocation per record (rustls 0.23 copies each record's plaintext), plus, for a
    // record larger than RUSTLS_READ_SIZE on the wire, the deframer's grow and shrink (at most
    // 4 reallocations). A busy venue coalesces more data per record, so large records appear
    // under load: this is what made the exact count flaky on a loaded machine (1 extra
    // allocation for 1 large record, measured). Beyond that, an amortized growth inside
    // rustls can show once in a run: CI saw 1477 for 1476 records before the reactor fed
    // rustls at most four records per batch (the burst case traced in
    // `no_alloc_net::tls_burst_of_small_records_allocates_exactly_once_per_record`), and
    // 1434 for 1433 once with the cap (source not pinned down). At most `AMORTIZED` over
    // ~1 400 records; a second allocation per record would exceed it by three orders of
    // magnitude.
    const AMORTIZED: u64 = 2;
    if large == 0 {
        assert!(
            allocs >= records && allocs <= records + AMORTIZED,
            "{allocs} allocations for {records} TLS records ({msgs} messages)"
        );
    } else {
        assert!(
            allocs >= records && allocs <= records + 4 * large + AMORTIZED,
            "{allocs} allocations for {records} TLS records, {large} of them larger than \
             {} bytes ({msgs} messages)",
            cexfeed::net::RUSTLS_READ_SIZE
        );
    }
}

/// Issue 17: the private path on the feed thread allocates nothing in steady state — stream
/// events through the de-duplication ledger, and a gap's reconciliation handed over by the
/// reconciler thread (`Copy` records popped from a preallocated queue, then the
/// `PrivateGapClosed` status). The REST work (signing, HTTP, JSON, sorting) runs on the
/// reconciler's own threads, which are not counted. The gap is injected through a test hook
/// (no reconnect: a new connection allocates by design).
#[test]
fn issue17_private_path_and_reconciliation_hand_off_allocate_nothing_on_the_feed_thread() {
    use cexfeed::ring::{Body, StatusKind};
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let _ = FEED_THREAD_START.set(support::alloc::mark_thread);
    for market in [Market::Spot, Market::Futures] {
        let mut measured = None;
        for attempt in 1..=3 {
            let venue = LoopbackVenue::start(VenueConfig {
                rate_per_sec: 200,
                private_period: Duration::from_millis(100),
                gate_full_period: Duration::ZERO,
                ..VenueConfig::default()
            })
            .unwrap();
            let mut feeds: Vec<_> = loopback_feeds(
                &venue,
                &Runtime::default(),
                WaitMode::Block,
                true,
                Duration::from_secs(10),
            )
            .into_iter()
            .filter(|f| f.venue == Venue::Gateio && f.market == market)
            .collect();
            feeds[0].ping_interval = Duration::from_secs(3600);
            let mut engine = Engine::new(EngineConfig {
                feeds,
                ring_capacity: 8192,
                top_n: 10,
                book_pool: 1024,
                control_core: None,
            })
            .unwrap();
            let mut rx = engine.consumer().unwrap();
            let mut kinds = vec!["orders", "fills", "balances"];
            if market == Market::Futures {
                kinds.push("positions");
            }
            for k in kinds {
                engine
                    .bind(&format!("gateio.{}.{k}", market.as_str()), rx.id())
                    .unwrap();
            }
            engine.start().unwrap();
            let views = engine.views();
            // (private events, snapshot statuses, gaps closed) until `until` or `stop` holds.
            let drain = |rx: &mut cexfeed::engine::StrategyRx,
                         until: Instant,
                         stop: &dyn Fn(u64, u64) -> bool|
             -> (u64, u64, u64) {
                let (mut private, mut snap, mut closed) = (0, 0, 0);
                while Instant::now() < until && !stop(snap, closed) {
                    match rx.try_recv() {
                        Some(ev) => match ev.body {
                            Body::Status {
                                kind: StatusKind::PrivateSnapshot,
                                ..
                            } => snap += 1,
                            Body::Status {
                                kind: StatusKind::PrivateGapClosed,
                                ..
                            } => closed += 1,
                            Body::Order { .. }
                            | Body::Fill { .. }
                            | Body::Balance { .. }
                            | Body::Position { .. } => private += 1,
                            _ => {}
                        },
                        None => std::thread::sleep(Duration::from_micros(200)),
                    }
                }
                (private, snap, closed)
            };
            let (_, snap, _) = drain(
                &mut rx,
                Instant::now() + Duration::from_secs(20),
                &|s, _| s > 0,
            );
            assert_eq!(snap, 1, "no start-up state");
            // Warm-up of the stream path.
            drain(&mut rx, Instant::now() + Duration::from_secs(2), &|_, _| {
                false
            });
            let c0 = views[0].shared.counters.snapshot();
            support::alloc::take_marked();
            support::alloc::arm_marked(true);
            assert!(engine.inject_private_gap(Venue::Gateio, market));
            let (p1, _, closed) = drain(
                &mut rx,
                Instant::now() + Duration::from_secs(20),
                &|_, c| c > 0,
            );
            let (p2, _, _) = drain(&mut rx, Instant::now() + Duration::from_secs(1), &|_, _| {
                false
            });
            support::alloc::arm_marked(false);
            let allocs = support::alloc::take_marked();
            let c = views[0].shared.counters.snapshot();
            let reconnects = c.reconnects - c0.reconnects;
            let st = &views[0].shared.stats;
            eprintln!(
                "gateio {market:?}: {allocs} allocations, {} private events, gap closed {closed}, duplicates dropped {}",
                p1 + p2,
                st.private_duplicates.load(std::sync::atomic::Ordering::Relaxed)
            );
            engine.stop();
            venue.stop();
            assert_eq!(closed, 1, "the injected gap was not closed");
            if reconnects == 0 {
                measured = Some((allocs, p1 + p2));
                break;
            }
            eprintln!("try {attempt}: {reconnects} reconnects in the window; measuring again");
        }
        let (allocs, events) = measured.expect("no undisturbed window in 3 tries");
        assert!(
            events >= 5,
            "{market:?}: only {events} private events in the window"
        );
        assert_eq!(
            allocs, 0,
            "{market:?}: {allocs} allocations on the feed thread"
        );
    }
}

/// Issue 15: recording on, the feed thread still allocates nothing (the tap copies into the
/// pre-allocated ring; the recorder thread compresses and writes).
#[test]
fn issue15_plain_pipeline_allocates_nothing_with_recording_on() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for (venue, market) in [(Venue::Gateio, Market::Spot), (Venue::Mexc, Market::Spot)] {
        let (allocs, _, msgs, _) = steady(false, venue, market, true);
        assert!(msgs > 500, "{venue:?} {market:?}: only {msgs} messages");
        assert_eq!(
            allocs, 0,
            "{venue:?} {market:?}: {allocs} allocations over {msgs} recorded messages"
        );
    }
}
