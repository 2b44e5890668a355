//! The fault matrix: every venue scenario, one at a time, against every public feed at once
//! (MEXC spot, Gate.io spot obu, Gate.io futures order_book_update + REST), aimed at one symbol
//! per venue (`BTCUSDT`, `BTC_USDT`) where the scenario is per symbol. For each:
//! - every book the strategy receives while `Live` is valid in full (bids strictly falling,
//!   asks strictly rising, sizes positive, not crossed): never crossed, never half-applied;
//! - for a per-symbol scenario, the other symbol's books never leave `Live`;
//!   for `malformed` and `duplicate`, no book leaves `Live` (a frame that cannot be read, or
//!   an update already applied, touches nothing);
//! - the venue injected the fault and the client saw it (snapshot faults run with gaps on the
//!   same symbol, so that snapshots are fetched while they strike) (a gap, resync, decode error,
//!   reconnect or pong timeout), so a run that tests nothing fails;
//! - after the strikes stop, every book recovers by itself and equals the venue's true book at
//!   the same version.
//!
//! Subscription refusals and authentication failures have their own tests (a refused channel
//! does not recover by itself: tests/e2e/gateio_faults.rs, mexc.rs, private.rs).

use crate::support::{loopback_feeds, pause_and_settle, venue_book};
use cexfeed::config::{Runtime, WaitMode};
use cexfeed::engine::{Engine, EngineConfig};
use cexfeed::types::{BookState, Market, Venue};
use cexfeed_venue::{Scenario, Target, Venue as LoopbackVenue, VenueConfig};
use std::time::{Duration, Instant};

/// Scenarios that strike one symbol (the rest strike whole connections).
fn per_symbol(s: Scenario) -> bool {
    matches!(
        s,
        Scenario::Gap
            | Scenario::Duplicate
            | Scenario::Reorder
            | Scenario::StaleSnapshot
            | Scenario::FreshSnapshot
            | Scenario::SlowSnapshot
            | Scenario::FailedSnapshot
            | Scenario::FullReset
    )
}

fn matrix(scenario: Scenario) {
    // Snapshot faults strike when a snapshot is fetched: a gap on the same symbol makes the
    // client fetch them during the run, not only at start-up.
    let snapshot_fault = matches!(
        scenario,
        Scenario::StaleSnapshot
            | Scenario::FreshSnapshot
            | Scenario::SlowSnapshot
            | Scenario::FailedSnapshot
    );
    let targets = if per_symbol(scenario) {
        let mut t = Vec::new();
        for sym in ["BTCUSDT", "BTC_USDT"] {
            t.push((scenario, Target::Symbol(sym.into())));
            if snapshot_fault {
                t.push((Scenario::Gap, Target::Symbol(sym.into())));
            }
        }
        t
    } else {
        vec![(scenario, Target::All)]
    };
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 500,
        scenarios: targets,
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
    let mut feeds = loopback_feeds(&venue, &rt, WaitMode::Block, false, Duration::from_secs(2));
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
    let books = [
        ("mexc.spot", "BTCUSDT"),
        ("mexc.spot", "ETHUSDT"),
        ("gateio.spot", "BTC_USDT"),
        ("gateio.spot", "ETH_USDT"),
        ("gateio.futures", "BTC_USDT"),
        ("gateio.futures", "ETH_USDT"),
    ];
    for (feed, sym) in books {
        engine
            .bind(&format!("{feed}.orderbook.{sym}"), rx.id())
            .unwrap();
    }
    engine.start().unwrap();
    let views = engine.views();
    let name_of = |venue: Venue, market: Market, id| {
        views
            .iter()
            .find(|v| v.shared.venue == venue && v.shared.market == market)
            .and_then(|v| v.shared.symbols.iter().find(|(s, _, _)| *s == id))
            .map(|(_, n, _)| n.to_string())
            .unwrap_or_default()
    };
    // Books that must stay Live once Live: the untargeted symbol, or all under `malformed`.
    let untouched = |name: &str| match scenario {
        Scenario::Malformed | Scenario::Duplicate => true,
        s if per_symbol(s) => name.starts_with("ETH"),
        _ => false,
    };
    let mut was_live = std::collections::HashSet::new();
    let mut checked = 0u64;
    let end = Instant::now() + Duration::from_millis(6500);
    while Instant::now() < end {
        let Some(ev) = rx.try_recv() else {
            std::thread::sleep(Duration::from_micros(200));
            continue;
        };
        let Some(top) = ev.book() else { continue };
        let h = ev.header;
        let name = name_of(h.venue, h.market, h.symbol);
        let key = (h.venue, h.market, name.clone());
        if h.state == BookState::Live {
            if let Err(e) = crate::support::valid_book(top) {
                panic!(
                    "{scenario:?}: {:?} {:?} {name} handed out invalid: {e}",
                    h.venue, h.market
                );
            }
            checked += 1;
            was_live.insert(key);
        } else if untouched(&name) && was_live.contains(&key) {
            panic!(
                "{scenario:?}: {:?} {:?} {name} left Live ({:?}) though the fault was not aimed at it",
                h.venue, h.market, h.state
            );
        }
    }
    assert!(
        checked > 100,
        "{scenario:?}: only {checked} live books checked"
    );
    let settled = pause_and_settle(&venue, &engine, Duration::from_secs(30));
    let injected = venue.stats().injected(scenario);
    let mut detected = 0;
    for v in &views {
        let c = v.shared.counters.snapshot();
        let pong = v
            .shared
            .stats
            .pong_timeouts
            .load(std::sync::atomic::Ordering::Relaxed);
        detected += c.gaps + c.resyncs + c.decode_errors + c.reconnects + pong;
    }
    eprintln!("{scenario:?}: injected {injected}, detected {detected}, {checked} live books checked, settled {settled}");
    assert!(injected > 0, "{scenario:?}: the venue injected nothing");
    // A duplicate is an update already applied: ignored, nothing to see (every book stayed
    // Live, checked above). Everything else must have been noticed.
    assert!(
        detected > 0 || scenario == Scenario::Duplicate,
        "{scenario:?}: injected {injected} faults, the client saw none"
    );
    let finals = engine.stop();
    let mut compared = 0;
    for f in &finals {
        let market = f.market.unwrap();
        let venue_id = f.venue.unwrap();
        for b in &f.books {
            let (seq, vb, va) = venue_book(&venue, venue_id, market, &b.symbol).unwrap();
            let at = format!("{scenario:?} {venue_id:?} {market:?} {}", b.symbol);
            assert_eq!(b.state, BookState::Live, "{at} not live");
            assert_eq!(b.seq, seq, "{at} seq");
            assert_eq!(&b.bids[..10], &vb[..10], "{at} bids");
            assert_eq!(&b.asks[..10], &va[..10], "{at} asks");
            compared += 1;
        }
    }
    assert_eq!(compared, books.len(), "{scenario:?}: books compared");
    venue.stop();
}

macro_rules! matrix_tests {
    ($($name:ident => $scenario:ident),* $(,)?) => {
        $(#[test]
        fn $name() {
            matrix(Scenario::$scenario);
        })*
    };
}

matrix_tests! {
    matrix_gap => Gap,
    matrix_duplicate => Duplicate,
    matrix_reorder => Reorder,
    matrix_stale_snapshot => StaleSnapshot,
    matrix_fresh_snapshot => FreshSnapshot,
    matrix_slow_snapshot => SlowSnapshot,
    matrix_failed_snapshot => FailedSnapshot,
    matrix_full_reset => FullReset,
    matrix_reset => Reset,
    matrix_close => Close,
    matrix_silent => Silent,
    matrix_malformed => Malformed,
    matrix_lifetime => Lifetime,
    matrix_no_pong => NoPong,
}
