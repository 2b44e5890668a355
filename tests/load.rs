//! Load tests (issue 12): a slow consumer, bursts, and the soak (every venue scenario striking
//! in turn at a high rate for minutes, `#[ignore]`d; `tools/soak.sh` runs it in release). In
//! their own binary, one at a time, with a live-bytes allocator: memory is judged on heap bytes
//! in use, which tells a leak from allocator fragmentation and is not mixed up with other
//! tests' memory (RSS is printed beside it).

#[path = "support/mod.rs"]
mod support;

use cexfeed::config::{Runtime, WaitMode};
use cexfeed::engine::{Engine, EngineConfig};
use cexfeed::ring::Body;
use cexfeed::types::BookState;
use cexfeed_venue::{Scenario, Target, Venue as LoopbackVenue, VenueConfig};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};
use support::loopback_feeds;

/// The load tests must not overlap (the heap count is process-wide).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Forwards to the system allocator; keeps the bytes currently allocated.
struct LiveBytes;
static LIVE: AtomicI64 = AtomicI64::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the bookkeeping is one atomic add.
unsafe impl GlobalAlloc for LiveBytes {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n as i64 - l.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(p, l, n) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as i64, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: LiveBytes = LiveBytes;

fn heap_mib() -> i64 {
    LIVE.load(Ordering::Relaxed) >> 20
}

fn rss_mib() -> u64 {
    rss_bytes() >> 20
}

/// Soak (issue 12): `CEXFEED_SOAK_SECS` (default 600) at a high rate with every scenario above
/// striking in turn (staggered: one strike every 2 s, a round every 28 s), every Live book checked,
/// heap bytes in use sampled every 5 s and flat (the last quarter's peak within 32 MiB of the
/// first quarter's; RSS printed beside it), every scenario injected and the client seeing faults, and after a quiet period
/// every book equal to the venue's. `tools/soak.sh` runs it (release build).
#[test]
#[ignore = "10 minutes; run by tools/soak.sh"]
fn soak_every_scenario_at_high_rate() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let secs: u64 = std::env::var("CEXFEED_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let scenarios = [
        Scenario::Gap,
        Scenario::Duplicate,
        Scenario::Reorder,
        Scenario::StaleSnapshot,
        Scenario::FreshSnapshot,
        Scenario::SlowSnapshot,
        Scenario::FailedSnapshot,
        Scenario::FullReset,
        // Connection faults last: a connection down (a silent one takes the idle timeout to
        // be noticed) masks what strikes right after it.
        Scenario::Malformed,
        Scenario::Reset,
        Scenario::Close,
        Scenario::Silent,
        Scenario::Lifetime,
        Scenario::NoPong,
    ];
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 5_000,
        scenarios: scenarios.iter().map(|s| (*s, Target::All)).collect(),
        fault_period: Duration::from_secs(28),
        quiet_after: Some(Duration::from_secs(secs)),
        slow_snapshot: Duration::from_millis(300),
        private_period: Duration::ZERO,
        ..VenueConfig::default()
    })
    .unwrap();
    let rt = Runtime {
        book_depth: 2000,
        ..Runtime::default()
    };
    let mut feeds = loopback_feeds(&venue, &rt, WaitMode::Block, false, Duration::from_secs(2));
    for f in &mut feeds {
        f.ping_interval = Duration::from_millis(500);
    }
    let mut engine = Engine::new(EngineConfig {
        feeds,
        ring_capacity: 8192,
        top_n: 10,
        book_pool: 16384,
        control_core: None,
    })
    .unwrap();
    let mut rx = engine.consumer().unwrap();
    for feed in ["mexc.spot", "gateio.spot", "gateio.futures"] {
        let syms = if feed == "mexc.spot" {
            ["BTCUSDT", "ETHUSDT"]
        } else {
            ["BTC_USDT", "ETH_USDT"]
        };
        for s in syms {
            for k in ["orderbook", "trades"] {
                engine.bind(&format!("{feed}.{k}.{s}"), rx.id()).unwrap();
            }
        }
    }
    engine.start().unwrap();
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let mut rss = Vec::new();
    let mut heap = Vec::new();
    let mut next_sample = start;
    let (mut checked, mut events, mut missed) = (0u64, 0u64, 0u64);
    while Instant::now() < end {
        if Instant::now() >= next_sample {
            rss.push(rss_mib());
            heap.push(heap_mib());
            next_sample += Duration::from_secs(5);
        }
        let Some(ev) = rx.try_recv() else {
            std::thread::sleep(Duration::from_micros(200));
            continue;
        };
        events += 1;
        if let cexfeed::ring::Body::Missed { count } = ev.event().body {
            missed += count;
        }
        if let Some(top) = ev.book() {
            if ev.header.state == BookState::Live {
                if let Err(e) = crate::support::valid_book(top) {
                    panic!(
                        "soak: invalid book handed out after {:?}: {e}",
                        start.elapsed()
                    );
                }
                checked += 1;
            }
        }
    }
    let settled = support::pause_and_settle(&venue, &engine, Duration::from_secs(60));
    let views = engine.views();
    let (mut gaps, mut resyncs, mut reconnects, mut decode_errors) = (0, 0, 0, 0);
    for v in &views {
        let c = v.shared.counters.snapshot();
        gaps += c.gaps;
        resyncs += c.resyncs;
        reconnects += c.reconnects;
        decode_errors += c.decode_errors;
    }
    let st = venue.stats();
    let q = (rss.len() / 4).max(1);
    let first = *heap[..q].iter().max().unwrap();
    let last = *heap[heap.len() - q..].iter().max().unwrap();
    let (rss_first, rss_last) = (
        *rss[..q].iter().max().unwrap(),
        *rss[rss.len() - q..].iter().max().unwrap(),
    );
    eprintln!(
        "soak {secs} s: venue pushes {} book changes {}; client events {events}, {checked} live \
         books checked, missed {missed}; gaps {gaps} resyncs {resyncs} reconnects {reconnects} \
         decode errors {decode_errors}; injected {:?}; heap in use MiB first quarter peak {first}, \
         last quarter peak {last} (RSS {rss_first} -> {rss_last}); settled {settled}",
        st.pushes,
        st.book_changes,
        scenarios
            .iter()
            .map(|s| (s.name(), st.injected(*s)))
            .collect::<Vec<_>>(),
    );
    for s in scenarios {
        assert!(st.injected(s) > 0, "soak: {} never struck", s.name());
    }
    assert!(gaps > 0 && reconnects > 0 && decode_errors > 0);
    assert!(
        last <= first + 32,
        "heap in use grew: {first} -> {last} MiB ({heap:?})"
    );
    let finals = engine.stop();
    for f in &finals {
        let (venue_id, market) = (f.venue.unwrap(), f.market.unwrap());
        for b in &f.books {
            let (seq, vb, va) = support::venue_book(&venue, venue_id, market, &b.symbol).unwrap();
            let at = format!("soak {venue_id:?} {market:?} {}", b.symbol);
            assert_eq!(b.state, BookState::Live, "{at} not live");
            assert_eq!(b.seq, seq, "{at} seq");
            assert_eq!(&b.bids[..10], &vb[..10], "{at} bids");
            assert_eq!(&b.asks[..10], &va[..10], "{at} asks");
        }
    }
    venue.stop();
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Issue 12, slow consumer: strategy A stalls for 1 s while the venue pushes at a nominal
/// 100k updates/s (6 books × 16.7k/s; what a busy 2-core machine delivers is printed). Neither
/// the feed threads nor strategy B (draining on its own thread) slow down while A sleeps; no
/// connection is lost; memory stays flat (rings are fixed-size); and every event A or B did not
/// get is reported to it: the `Missed` counts they receive add up to exactly the drops the
/// feeds counted.
#[test]
fn slow_consumer_stalls_one_second_without_slowing_the_feed_or_other_consumers() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 16_667,
        private_period: Duration::ZERO,
        ..VenueConfig::default()
    })
    .unwrap();
    let rt = Runtime {
        book_depth: 2_000,
        ..Runtime::default()
    };
    let feeds = loopback_feeds(&venue, &rt, WaitMode::Block, false, Duration::from_secs(10));
    let mut engine = Engine::new(EngineConfig {
        feeds,
        ring_capacity: 1024,
        top_n: 10,
        book_pool: 4096,
        control_core: None,
    })
    .unwrap();
    let mut a = engine.consumer().unwrap();
    let mut b = engine.consumer().unwrap();
    for (feed, syms) in [
        ("mexc.spot", ["BTCUSDT", "ETHUSDT"]),
        ("gateio.spot", ["BTC_USDT", "ETH_USDT"]),
        ("gateio.futures", ["BTC_USDT", "ETH_USDT"]),
    ] {
        for s in syms {
            for k in ["orderbook", "trades"] {
                let ch = format!("{feed}.{k}.{s}");
                engine.bind(&ch, a.id()).unwrap();
                engine.bind(&ch, b.id()).unwrap();
            }
        }
    }
    engine.start().unwrap();
    let views = engine.views();
    let messages = || -> u64 {
        views
            .iter()
            .map(|v| v.shared.counters.snapshot().messages)
            .sum()
    };
    let reconnects = || -> u64 {
        views
            .iter()
            .map(|v| v.shared.counters.snapshot().reconnects)
            .sum()
    };
    // Events received + missed reported, per consumer.
    let drain = |rx: &mut cexfeed::engine::StrategyRx, until: Instant| -> (u64, u64) {
        let (mut got, mut missed) = (0u64, 0u64);
        while Instant::now() < until {
            match rx.try_recv() {
                Some(ev) => {
                    got += 1;
                    if let Body::Missed { count } = ev.event().body {
                        missed += count;
                    }
                }
                None => std::thread::sleep(Duration::from_micros(100)),
            }
        }
        (got, missed)
    };
    let t0 = Instant::now();
    // B drains on its own thread for the whole run, counting what it gets per window.
    let stall_from = t0 + Duration::from_secs(3);
    let stall_to = stall_from + Duration::from_secs(1);
    let end = stall_to + Duration::from_secs(2);
    let b_thread = std::thread::spawn(move || {
        let before = drain(&mut b, stall_from - Duration::from_secs(1));
        let last_second = drain(&mut b, stall_from);
        let during = drain(&mut b, stall_to);
        let after = drain(&mut b, end);
        (
            before.1 + last_second.1 + during.1 + after.1,
            last_second.0,
            during.0,
            b,
        )
    });
    // How far the feeds are behind the venue: messages it wrote minus messages they read.
    let lag = || venue.stats().pushes as i64 - messages() as i64;
    // Warm-up (books live), then one second measured before the stall.
    let (_, mut a_missed) = drain(&mut a, stall_from - Duration::from_secs(1));
    let rss0 = rss_bytes();
    let heap0 = heap_mib();
    let (m0, c0) = (messages(), venue.stats().book_changes);
    a_missed += drain(&mut a, stall_from).1;
    let (m1, c1, p1, lag1) = (
        messages(),
        venue.stats().book_changes,
        venue.stats().pushes,
        lag(),
    );
    let reconnects0 = reconnects();
    std::thread::sleep(stall_to.saturating_duration_since(Instant::now())); // A stalls
    let (m2, p2, lag2) = (messages(), venue.stats().pushes, lag());
    a_missed += drain(&mut a, end).1;
    let rss1 = rss_bytes();
    let heap1 = heap_mib();
    let (mut b_missed, b_before, b_during, mut b) = b_thread.join().unwrap();
    eprintln!(
        "venue book changes/s {}; feed messages/s before {}, during A's stall {} (venue wrote \
         {}, lag {lag1} -> {lag2}); B events in the second before {b_before}, during \
         {b_during}; A missed {a_missed}; heap in use {heap0} -> {heap1} MiB, RSS {} -> {} MiB",
        c1 - c0,
        m1 - m0,
        m2 - m1,
        p2 - p1,
        rss0 >> 20,
        rss1 >> 20
    );
    assert!(
        a_missed > 0,
        "A's ring never overflowed: the stall tested nothing"
    );
    // Not blocked by A: the feed threads kept reading what the venue wrote (a blocked feed
    // falls behind by everything written during the stall), and B kept receiving. Loose
    // bounds: the machine may be busy on every core.
    assert!(
        lag2 - lag1 < (p2 - p1) as i64 / 2,
        "the feeds fell behind while A stalled: lag {lag1} -> {lag2}, venue wrote {}",
        p2 - p1
    );
    assert!(
        b_during * 10 > b_before,
        "B nearly stopped while A stalled: {b_during} events against {b_before} the second before"
    );
    assert_eq!(
        reconnects(),
        reconnects0,
        "a connection was lost during the stall"
    );
    assert!(
        heap1 < heap0 + 32,
        "heap in use grew {heap0} -> {heap1} MiB during the stall"
    );
    // Exact accounting: stop the feeds, drain both consumers to empty (nothing writes the
    // rings any more), compare with the feeds' drop counts.
    let finals = engine.stop();
    let dropped: u64 = finals.iter().map(|f| f.ring_dropped).sum();
    let rest = |rx: &mut cexfeed::engine::StrategyRx| {
        let mut missed = 0;
        while let Some(ev) = rx.try_recv() {
            if let Body::Missed { count } = ev.event().body {
                missed += count;
            }
        }
        missed
    };
    a_missed += rest(&mut a);
    b_missed += rest(&mut b);
    assert_eq!(
        a_missed + b_missed,
        dropped,
        "every dropped event is reported to its consumer (A {a_missed}, B {b_missed})"
    );
    venue.stop();
}

/// Issue 12, bursts: every 100 ms each book takes 10× its per-second rate in extra changes at
/// once (2k/s base, 20k/s in bursts, 6 books), for 4 s. No reconnect (no storm), memory flat,
/// every Live book received valid; after the traffic stops the books are at the venue's version
/// within the deadline, and the time that took is printed (the recovery time).
#[test]
fn bursts_ten_times_the_rate_bound_memory_and_cause_no_reconnect_storm() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 2_000,
        burst_period: Duration::from_millis(100),
        burst_size: 2_000,
        private_period: Duration::ZERO,
        ..VenueConfig::default()
    })
    .unwrap();
    let rt = Runtime {
        book_depth: 2_000,
        ..Runtime::default()
    };
    let feeds = loopback_feeds(&venue, &rt, WaitMode::Block, false, Duration::from_secs(10));
    let mut engine = Engine::new(EngineConfig {
        feeds,
        ring_capacity: 4096,
        top_n: 10,
        book_pool: 8192,
        control_core: None,
    })
    .unwrap();
    let mut rx = engine.consumer().unwrap();
    for (feed, syms) in [
        ("mexc.spot", ["BTCUSDT", "ETHUSDT"]),
        ("gateio.spot", ["BTC_USDT", "ETH_USDT"]),
        ("gateio.futures", ["BTC_USDT", "ETH_USDT"]),
    ] {
        for s in syms {
            engine
                .bind(&format!("{feed}.orderbook.{s}"), rx.id())
                .unwrap();
        }
    }
    engine.start().unwrap();
    let views = engine.views();
    let counters = || {
        views.iter().fold((0u64, 0u64), |acc, v| {
            let c = v.shared.counters.snapshot();
            (acc.0 + c.reconnects, acc.1 + c.messages)
        })
    };
    let mut rss = Vec::new();
    let mut heap = Vec::new();
    let mut live_checked = 0u64;
    let t0 = Instant::now();
    let mut next_sample = t0;
    while t0.elapsed() < Duration::from_secs(5) {
        if Instant::now() >= next_sample {
            rss.push(rss_bytes() >> 20);
            heap.push(heap_mib());
            next_sample += Duration::from_millis(500);
        }
        match rx.try_recv() {
            Some(ev) => {
                if let (Some(top), BookState::Live) = (ev.book(), ev.header.state) {
                    if let Err(e) = support::valid_book(top) {
                        panic!("bursts: invalid book handed out: {e}");
                    }
                    live_checked += 1;
                }
            }
            None => std::thread::sleep(Duration::from_micros(100)),
        }
    }
    let changes = venue.stats().book_changes;
    let (reconnects, messages) = counters();
    let paused = Instant::now();
    let settled = support::pause_and_settle(&venue, &engine, Duration::from_secs(30));
    let recovery = paused.elapsed();
    eprintln!(
        "bursts: {changes} venue book changes in 5 s, {messages} messages, {live_checked} live \
         books checked, reconnects {reconnects}, heap in use MiB {heap:?}, RSS MiB {rss:?}, \
         recovery {recovery:?}"
    );
    assert!(
        settled,
        "books did not reach the venue's version within 30 s"
    );
    assert_eq!(reconnects, 0, "bursts caused reconnects");
    assert!(live_checked > 100, "only {live_checked} live books checked");
    // After the first second (warm-up), the heap in use stays within 32 MiB of its value then.
    let base = heap[2];
    let peak = *heap[2..].iter().max().unwrap();
    assert!(
        peak <= base + 32,
        "heap in use grew {base} -> {peak} MiB under bursts"
    );
    engine.stop();
    venue.stop();
}
