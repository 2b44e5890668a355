//! Issue 13: MEXC lifecycles against the loopback venue taught the real behaviour — listen-key
//! keep-alives that fail for a while (finding 4), the private socket's 24 h rotation (finding 5),
//! server-sent JSON pings (finding 6), quiet books on a live connection (finding 8), signed
//! timestamps on the venue's clock (finding 10).

use crate::private::{check_lifecycles, drain, drain_until, engine, setups, Acct, LIMIT};
use cexfeed::engine::FeedSetup;
use cexfeed::types::{BookState, Venue};
use cexfeed_venue::{KeepAliveFault, Venue as LoopbackVenue, VenueConfig, VenueHandle};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn mexc_private(
    venue: &VenueHandle,
    keepalive: Duration,
) -> (cexfeed::engine::Engine, cexfeed::engine::StrategyRx) {
    let mut feeds: Vec<FeedSetup> = setups(venue)
        .into_iter()
        .filter(|f| f.venue == Venue::Mexc)
        .collect();
    feeds[0].listen_key_keepalive = keepalive;
    let mut engine = engine(feeds);
    let rx = engine.consumer().unwrap();
    for ch in ["mexc.spot.orders", "mexc.spot.fills", "mexc.spot.balances"] {
        engine.bind(ch, rx.id()).unwrap();
    }
    engine.start().unwrap();
    (engine, rx)
}

/// Waits (draining the consumer) until `done` holds for the venue, within [`LIMIT`].
fn wait_venue(
    rx: &mut cexfeed::engine::StrategyRx,
    acct: &mut [Acct; 3],
    what: &str,
    mut done: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + LIMIT;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what}: not within {LIMIT:?}: {:?}",
            acct[0]
        );
        drain(rx, acct, Duration::from_millis(20));
    }
}

/// Issue 13, finding 4: keep-alives failing in transport, with 429 and with 503 keep the key
/// and are retried well before it expires (the venue's keys live two keep-alive periods, as
/// MEXC's 60 min against 30 min, and it closes the stream of an expired key). The old client
/// took the 429 for "key gone" (new key, reconnect, `PrivateGap`) and left a transport failure
/// to the next period, when the key expires.
#[test]
fn issue13_finding4_failed_keepalives_keep_the_key_and_are_retried_within_the_period() {
    let venue = LoopbackVenue::start(VenueConfig {
        private_period: Duration::from_millis(100),
        listen_key_ttl: Duration::from_secs(8),
        ..VenueConfig::default()
    })
    .unwrap();
    venue.inject_keepalive_faults(&[
        KeepAliveFault::Transport,
        KeepAliveFault::Status(429),
        KeepAliveFault::Status(503),
    ]);
    let (mut engine, mut rx) = mexc_private(&venue, Duration::from_secs(4));
    let mut acct: [Acct; 3] = Default::default();
    drain_until(&mut rx, &mut acct, "balances", |a| a[0].balances > 0);
    wait_venue(&mut rx, &mut acct, "keep-alives after the faults", || {
        let s = venue.lifecycle_stats();
        s.keepalives_faulted >= 3 && s.keepalives_ok >= 2
    });
    let before = acct[0].balances;
    drain_until(&mut rx, &mut acct, "events after the faults", |a| {
        a[0].balances >= before + 3
    });
    let s = venue.lifecycle_stats();
    let a = &acct[0];
    eprintln!("keep-alive faults survived: {s:?}");
    assert_eq!(s.keys_created, 1, "a new key was made: {s:?} {a:?}");
    assert_eq!(a.gaps, 0, "PrivateGap on a key that was still valid: {a:?}");
    assert!(a.errors.is_empty(), "errors routed to consumers: {a:?}");
    check_lifecycles("mexc", a);
    let view = &engine.views()[0];
    assert_eq!(view.net.as_ref().unwrap().snapshot().connects, 1);
    assert_eq!(view.shared.stats.auth_failures.load(Ordering::Relaxed), 0);
    let _ = engine.stop();
    venue.stop();
}

/// Issue 13, finding 4: a listen-key error on the keep-alive (MEXC `730708 listen key
/// information error`) is the one answer that makes a new key; the stream carries on with it.
#[test]
fn issue13_finding4_listen_key_error_on_keepalive_makes_a_new_key() {
    let venue = LoopbackVenue::start(VenueConfig {
        private_period: Duration::from_millis(100),
        ..VenueConfig::default()
    })
    .unwrap();
    venue.inject_keepalive_faults(&[KeepAliveFault::ListenKeyGone]);
    let (mut engine, mut rx) = mexc_private(&venue, Duration::from_secs(1));
    let mut acct: [Acct; 3] = Default::default();
    wait_venue(&mut rx, &mut acct, "a second key", || {
        venue.lifecycle_stats().keys_created >= 2
    });
    drain_until(&mut rx, &mut acct, "events on the new key", |a| {
        a[0].gaps >= 1 && a[0].after_gap >= 5
    });
    assert_eq!(venue.lifecycle_stats().keys_created, 2);
    check_lifecycles("mexc", &acct[0]);
    let _ = engine.stop();
    venue.stop();
}

/// Issue 13, finding 10: the venue's clock runs 20 s behind this machine's; MEXC refuses a
/// timestamp more than 1 s ahead of its server time (`700003`). The client measures the offset
/// from `GET /api/v3/time` and signs with it; the old client signed with its own clock and
/// never got a listen key.
#[test]
fn issue13_finding10_signed_requests_use_the_venue_clock() {
    let venue = LoopbackVenue::start(VenueConfig {
        private_period: Duration::from_millis(100),
        clock_skew_ms: -20_000,
        ..VenueConfig::default()
    })
    .unwrap();
    let (mut engine, mut rx) = mexc_private(&venue, Duration::from_secs(1));
    let mut acct: [Acct; 3] = Default::default();
    drain_until(&mut rx, &mut acct, "balances", |a| a[0].balances > 0);
    wait_venue(&mut rx, &mut acct, "a keep-alive", || {
        venue.lifecycle_stats().keepalives_ok >= 1
    });
    let s = venue.lifecycle_stats();
    assert_eq!(s.clock_refusals, 0, "{s:?}");
    assert_eq!(s.keys_created, 1, "{s:?}");
    // The clock moves under the client (30 s ahead now): the next keep-alive is refused with
    // 700003, the offset is measured again and the key kept.
    venue.set_clock_skew_ms(30_000);
    wait_venue(&mut rx, &mut acct, "keep-alives on the new clock", || {
        let s = venue.lifecycle_stats();
        s.clock_refusals >= 1 && s.keepalives_ok >= 3
    });
    let s = venue.lifecycle_stats();
    assert_eq!(
        s.keys_created, 1,
        "a clock refusal is not a lost key: {s:?}"
    );
    assert_eq!(acct[0].gaps, 0, "{:?}", acct[0]);
    let _ = engine.stop();
    venue.stop();
}

/// Issue 13, finding 6 (MEXC half): the venue sends `{"method":"ping"}`; the client answers
/// `{"method":"PONG"}` and counts no decode error (the old client counted one per ping and
/// never answered).
#[test]
fn issue13_finding6_server_ping_is_answered_not_a_decode_error() {
    let venue = LoopbackVenue::start(VenueConfig {
        mexc_server_ping: Duration::from_millis(200),
        rate_per_sec: 200,
        ..VenueConfig::default()
    })
    .unwrap();
    let feeds: Vec<FeedSetup> = setups(&venue)
        .into_iter()
        .filter(|f| f.venue == Venue::Mexc)
        .collect();
    let mut engine = engine(feeds);
    let mut rx = engine.consumer().unwrap();
    engine.bind("mexc.spot.orderbook.BTCUSDT", rx.id()).unwrap();
    engine.start().unwrap();
    let mut acct: [Acct; 3] = Default::default();
    wait_venue(&mut rx, &mut acct, "PONG answers", || {
        venue.lifecycle_stats().client_pongs >= 5
    });
    let view = &engine.views()[0];
    let decode_errors = view.shared.counters.decode_errors.load(Ordering::Relaxed);
    assert_eq!(decode_errors, 0, "server pings counted as decode errors");
    let _ = engine.stop();
    venue.stop();
}

/// Issue 13, finding 8: a quiet market (MEXC aggregated depth pushes only on change) on a
/// connection that answers every ping keeps its book `Live`; the old client marked it stale
/// after `idle_timeout` of book silence.
#[test]
fn issue13_finding8_quiet_book_on_a_live_connection_is_not_stale() {
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 200,
        ..VenueConfig::default()
    })
    .unwrap();
    let mut feeds: Vec<FeedSetup> = crate::support::loopback_feeds(
        &venue,
        &cexfeed::config::Runtime::default(),
        cexfeed::config::WaitMode::Block,
        false,
        Duration::from_millis(1500),
    )
    .into_iter()
    .filter(|f| f.venue == Venue::Mexc)
    .collect();
    feeds[0].ping_interval = Duration::from_millis(300);
    let mut engine = engine(feeds);
    let mut rx = engine.consumer().unwrap();
    for s in ["BTCUSDT", "ETHUSDT"] {
        engine
            .bind(&format!("mexc.spot.orderbook.{s}"), rx.id())
            .unwrap();
    }
    engine.start().unwrap();
    let views = engine.views();
    let state = |name: &str| {
        views[0]
            .shared
            .symbols
            .iter()
            .find(|(_, n, _)| n == name)
            .map(|(_, _, st)| st.state())
            .unwrap()
    };
    let mut acct: [Acct; 3] = Default::default();
    wait_venue(&mut rx, &mut acct, "both books live", || {
        state("BTCUSDT") == BookState::Live && state("ETHUSDT") == BookState::Live
    });
    venue.set_quiet("ETHUSDT", true);
    let pongs = || views[0].shared.stats.pongs.load(Ordering::Relaxed);
    let p0 = pongs();
    // Four idle timeouts of book silence, measured by the pongs the connection answers (the
    // connection is demonstrably alive), not by a fixed sleep.
    let deadline = Instant::now() + LIMIT;
    while pongs() < p0 + 20 {
        assert!(Instant::now() < deadline, "pongs stopped");
        assert_eq!(state("ETHUSDT"), BookState::Live, "quiet book marked stale");
        drain(&mut rx, &mut acct, Duration::from_millis(20));
    }
    assert_eq!(state("ETHUSDT"), BookState::Live);
    assert_eq!(state("BTCUSDT"), BookState::Live);
    let _ = engine.stop();
    venue.stop();
}

/// Issue 13, finding 5: the venue ends every connection when it is 4 s old (MEXC's 24 h limit,
/// compressed); the client rotates its private connection make-before-break at 1.5 s. No
/// `PrivateGap`, and every order update and fill arrives once, in order, across the
/// handovers (de-duplicated while two connections deliver). The old client let the private
/// socket die at the limit and reported a `PrivateGap` each time.
#[test]
fn issue13_finding5_private_socket_rotates_make_before_break_without_gap_or_duplicate() {
    use cexfeed_venue::{Scenario, Target};
    let venue = LoopbackVenue::start(VenueConfig {
        private_period: Duration::from_millis(50),
        scenarios: vec![(Scenario::Lifetime, Target::All)],
        fault_period: Duration::from_secs(4),
        ..VenueConfig::default()
    })
    .unwrap();
    let mut feeds: Vec<FeedSetup> = setups(&venue)
        .into_iter()
        .filter(|f| f.venue == Venue::Mexc)
        .collect();
    feeds[0].rotate_after = Duration::from_millis(1500);
    let mut engine = engine(feeds);
    let mut rx = engine.consumer().unwrap();
    for ch in ["mexc.spot.orders", "mexc.spot.fills", "mexc.spot.balances"] {
        engine.bind(ch, rx.id()).unwrap();
    }
    engine.start().unwrap();
    let mut acct: [Acct; 3] = Default::default();
    let views = engine.views();
    let connects = || views[0].net.as_ref().unwrap().snapshot().connects;
    // Three handovers, by the connections opened, then the events that follow them.
    wait_venue(&mut rx, &mut acct, "three rotations", || connects() >= 4);
    let done = crate::private::completed(&acct[0]);
    drain_until(&mut rx, &mut acct, "orders after the rotations", |a| {
        crate::private::completed(&a[0]) >= done + 5
    });
    let a = &acct[0];
    assert_eq!(a.gaps, 0, "PrivateGap on a planned rotation: {a:?}");
    assert!(a.errors.is_empty(), "{a:?}");
    let complete = check_lifecycles("mexc", a);
    assert!(complete >= 5, "{a:?}");
    eprintln!(
        "private rotation: {} connections, {complete} complete orders, {} balances, no gap",
        connects(),
        a.balances
    );
    assert_eq!(
        venue.lifecycle_stats().keys_created,
        1,
        "the rotation reuses the listen key"
    );
    let _ = engine.stop();
    venue.stop();
}

/// Issue 13, finding 10 (Gate.io half): the venue's clock runs 2 min behind this machine's;
/// Gate.io refuses a signed subscribe whose `time` is more than 60 s off its server's. The
/// control thread measures the offset from `GET /api/v4/spot/time` and the feed signs with
/// it; the old client signed with its own clock and was refused (code 4) forever.
#[test]
fn issue13_finding10_gate_signs_private_subscribes_with_the_venue_clock() {
    let venue = LoopbackVenue::start(VenueConfig {
        private_period: Duration::from_millis(100),
        clock_skew_ms: -120_000,
        ..VenueConfig::default()
    })
    .unwrap();
    let feeds: Vec<FeedSetup> = setups(&venue)
        .into_iter()
        .filter(|f| f.venue == Venue::Gateio && f.market == cexfeed::types::Market::Spot)
        .collect();
    let mut engine = engine(feeds);
    let mut rx = engine.consumer().unwrap();
    for ch in ["gateio.spot.orders", "gateio.spot.balances"] {
        engine.bind(ch, rx.id()).unwrap();
    }
    engine.start().unwrap();
    let mut acct: [Acct; 3] = Default::default();
    drain_until(&mut rx, &mut acct, "gate private events", |a| {
        a[1].balances >= 3 && !a[1].orders.is_empty()
    });
    let _ = engine.stop();
    venue.stop();
}

/// Issue 13, finding 8: stale-while-connected is still detected. The venue stops the depth
/// pushes of BTCUSDT while its trades and book tickers (each a depth change) go on and the
/// connection answers every ping: the book turns `Stale`.
#[test]
fn issue13_finding8_depth_that_stops_while_the_market_moves_is_stale() {
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 400,
        ..VenueConfig::default()
    })
    .unwrap();
    let mut feeds: Vec<FeedSetup> = crate::support::loopback_feeds(
        &venue,
        &cexfeed::config::Runtime::default(),
        cexfeed::config::WaitMode::Block,
        false,
        Duration::from_millis(1500),
    )
    .into_iter()
    .filter(|f| f.venue == Venue::Mexc)
    .collect();
    feeds[0].ping_interval = Duration::from_millis(300);
    let mut engine = engine(feeds);
    let mut rx = engine.consumer().unwrap();
    for k in ["orderbook", "trades", "bbo"] {
        engine
            .bind(&format!("mexc.spot.{k}.BTCUSDT"), rx.id())
            .unwrap();
    }
    engine.start().unwrap();
    let views = engine.views();
    let state = || {
        views[0]
            .shared
            .symbols
            .iter()
            .find(|(_, n, _)| n == "BTCUSDT")
            .map(|(_, _, st)| st.state())
            .unwrap()
    };
    let mut acct: [Acct; 3] = Default::default();
    wait_venue(&mut rx, &mut acct, "book live", || {
        state() == BookState::Live
    });
    venue.set_depth_muted("BTCUSDT", true);
    wait_venue(&mut rx, &mut acct, "book stale", || {
        state() == BookState::Stale
    });
    let _ = engine.stop();
    venue.stop();
}
