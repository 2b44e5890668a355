//! Gate.io spot (`obu`) and USDT futures (`order_book_update` + REST) through the venue's faults:
//! each scenario strikes repeatedly, then a quiet period; every book must be live again and equal
//! the venue's true book (top 10) at the same sequence, and the fault must have been seen
//! (counted as a gap, resync, decode error or reconnect) — so a test that saw nothing fails.

use crate::support::loopback_feeds;
use cexfeed::config::{Runtime, WaitMode};
use cexfeed::engine::{Engine, EngineConfig};
use cexfeed::types::{BookState, Venue};
use cexfeed_venue::{Scenario, Target, Venue as LoopbackVenue, VenueConfig};
use std::time::{Duration, Instant};

struct Seen {
    faults: u64,
    pong_timeouts: u64,
    gaps: u64,
    resyncs: u64,
    decode_errors: u64,
    reconnects: u64,
}

fn run(scenarios: &[Scenario]) -> Seen {
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 500,
        scenarios: scenarios.iter().map(|s| (*s, Target::All)).collect(),
        fault_period: Duration::from_millis(700),
        quiet_after: Some(Duration::from_millis(3500)),
        slow_snapshot: Duration::from_millis(300),
        private_period: Duration::ZERO,
        ..VenueConfig::default()
    })
    .unwrap();
    let rt = Runtime {
        book_depth: 2000,
        ..Runtime::default()
    };
    let mut feeds: Vec<_> =
        loopback_feeds(&venue, &rt, WaitMode::Block, false, Duration::from_secs(2))
            .into_iter()
            .filter(|f| f.venue == Venue::Gateio)
            .collect();
    for f in &mut feeds {
        f.ping_interval = Duration::from_millis(500);
    }
    let mut engine = Engine::new(EngineConfig {
        feeds,
        ring_capacity: 4096,
        top_n: 10,
        book_pool: 8192,
        control_core: None,
    })
    .unwrap();
    let mut rx = engine.consumer().unwrap();
    for m in ["spot", "futures"] {
        for s in ["BTC_USDT", "ETH_USDT"] {
            engine
                .bind(&format!("gateio.{m}.orderbook.{s}"), rx.id())
                .unwrap();
        }
    }
    engine.start().unwrap();
    let views = engine.views();
    let end = Instant::now() + Duration::from_millis(6500);
    while Instant::now() < end {
        match rx.try_recv() {
            Some(ev) => {
                if let Some(top) = ev.book() {
                    if ev.header.state == BookState::Live
                        && !top.bids().is_empty()
                        && !top.asks().is_empty()
                    {
                        assert!(
                            top.bids()[0].px < top.asks()[0].px,
                            "crossed book handed out"
                        );
                    }
                }
            }
            None => std::thread::sleep(Duration::from_micros(200)),
        }
    }
    crate::support::pause_and_settle(&venue, &engine, Duration::from_secs(20));
    let mut seen = Seen {
        faults: venue.stats().faults,
        pong_timeouts: 0,
        gaps: 0,
        resyncs: 0,
        decode_errors: 0,
        reconnects: 0,
    };
    for v in &views {
        let c = v.shared.counters.snapshot();
        seen.gaps += c.gaps;
        seen.resyncs += c.resyncs;
        seen.decode_errors += c.decode_errors;
        seen.reconnects += c.reconnects;
        seen.pong_timeouts += v
            .shared
            .stats
            .pong_timeouts
            .load(std::sync::atomic::Ordering::Relaxed);
    }
    eprintln!(
        "{scenarios:?}: gaps {} resyncs {} decode_errors {} reconnects {} faults {}",
        seen.gaps,
        seen.resyncs,
        seen.decode_errors,
        seen.reconnects,
        venue.stats().faults
    );
    let finals = engine.stop();
    for f in &finals {
        let market = f.market.unwrap();
        for b in &f.books {
            let (seq, vb, va) =
                crate::support::venue_book(&venue, Venue::Gateio, market, &b.symbol).unwrap();
            assert_eq!(
                b.state,
                BookState::Live,
                "{scenarios:?} {market:?} {} not live",
                b.symbol
            );
            assert_eq!(b.seq, seq, "{scenarios:?} {market:?} {} seq", b.symbol);
            assert_eq!(
                &b.bids[..10],
                &vb[..10],
                "{scenarios:?} {market:?} {} bids",
                b.symbol
            );
            assert_eq!(
                &b.asks[..10],
                &va[..10],
                "{scenarios:?} {market:?} {} asks",
                b.symbol
            );
        }
    }
    venue.stop();
    seen
}

#[test]
fn gap_duplicate_reorder_recover_exactly() {
    let s = run(&[Scenario::Gap, Scenario::Duplicate, Scenario::Reorder]);
    assert!(
        s.gaps > 0 && s.resyncs > 0,
        "gaps {} resyncs {}",
        s.gaps,
        s.resyncs
    );
}

#[test]
fn stale_snapshots_are_refetched_and_recover_exactly() {
    // Gaps force REST snapshots on the futures book; a stale one cannot bridge and is fetched again.
    let s = run(&[Scenario::Gap, Scenario::StaleSnapshot]);
    assert!(s.gaps > 0, "gaps {}", s.gaps);
    assert!(
        s.resyncs > s.gaps,
        "a stale snapshot must cost an extra resync: gaps {} resyncs {}",
        s.gaps,
        s.resyncs
    );
}

#[test]
fn fresh_slow_failed_snapshots_recover_exactly() {
    let s = run(&[
        Scenario::Gap,
        Scenario::FreshSnapshot,
        Scenario::SlowSnapshot,
        Scenario::FailedSnapshot,
    ]);
    assert!(s.gaps > 0, "gaps {}", s.gaps);
}

#[test]
fn full_resets_replace_books_exactly() {
    let s = run(&[Scenario::FullReset]);
    assert!(s.faults > 0, "no full reset struck");
}

#[test]
fn resets_and_closes_reconnect_and_resync_exactly() {
    let s = run(&[Scenario::Reset, Scenario::Close]);
    assert!(s.reconnects > 0, "reconnects {}", s.reconnects);
}

#[test]
fn malformed_frames_are_counted_and_skipped() {
    let s = run(&[Scenario::Malformed]);
    assert!(s.decode_errors > 0, "decode errors {}", s.decode_errors);
}

/// A refused subscription reaches the bound consumer as an `Error` event for that channel; a
/// silent socket marks the books stale, then the feed reconnects and they are live again.
#[test]
fn rejected_subscription_is_an_error_event_and_silence_goes_stale_then_recovers() {
    use cexfeed::ring::{Body, StatusKind};
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 300,
        scenarios: vec![
            (Scenario::Reject, Target::Symbol("ETH_USDT".into())),
            (Scenario::Silent, Target::All),
        ],
        fault_period: Duration::from_millis(1500),
        // Staggered strikes: reject (1 of 2) at 1.5 s, silent (2 of 2) at 1.5 + 0.75 s.
        quiet_after: Some(Duration::from_millis(2600)),
        private_period: Duration::ZERO,
        ..VenueConfig::default()
    })
    .unwrap();
    let rt = Runtime {
        book_depth: 2000,
        ..Runtime::default()
    };
    let feeds: Vec<_> = loopback_feeds(
        &venue,
        &rt,
        WaitMode::Block,
        false,
        Duration::from_millis(800),
    )
    .into_iter()
    .filter(|f| f.venue == Venue::Gateio && f.market == cexfeed::types::Market::Spot)
    .collect();
    let mut engine = Engine::new(EngineConfig {
        feeds,
        ring_capacity: 4096,
        top_n: 10,
        book_pool: 8192,
        control_core: None,
    })
    .unwrap();
    let mut rx = engine.consumer().unwrap();
    engine.bind("gateio.spot.trades.ETH_USDT", rx.id()).unwrap();
    engine
        .bind("gateio.spot.orderbook.BTC_USDT", rx.id())
        .unwrap();
    engine.start().unwrap();
    let (mut errors, mut stale, mut live_after_stale) = (Vec::new(), 0, 0);
    let end = Instant::now() + Duration::from_secs(6);
    while Instant::now() < end {
        let Some(ev) = rx.try_recv() else {
            std::thread::sleep(Duration::from_micros(300));
            continue;
        };
        match ev.body {
            Body::Error { code, channel, .. } => {
                errors.push((code, channel.as_str().to_string(), ev.header.symbol))
            }
            Body::Status {
                kind: StatusKind::Book,
                ..
            } if ev.header.state == BookState::Stale => stale += 1,
            Body::Book { .. } if stale > 0 && ev.header.state == BookState::Live => {
                live_after_stale += 1
            }
            _ => {}
        }
    }
    let eth = engine
        .registry()
        .lookup(Venue::Gateio, cexfeed::types::Market::Spot, b"ETH_USDT")
        .unwrap();
    assert!(
        errors
            .iter()
            .any(|(code, ch, sym)| *code == 3 && ch == "spot.trades" && *sym == eth),
        "no error event for the refused spot.trades ETH_USDT subscription: {errors:?}"
    );
    assert!(stale > 0, "silence never marked the book stale");
    assert!(
        live_after_stale > 0,
        "the book never came back after going stale"
    );
    engine.stop();
    venue.stop();
}

#[test]
fn unanswered_pings_replace_the_connection_and_books_recover_exactly() {
    let s = run(&[Scenario::NoPong]);
    assert!(s.pong_timeouts > 0, "no pong timeout detected");
    assert!(s.reconnects > 0, "reconnects {}", s.reconnects);
}
