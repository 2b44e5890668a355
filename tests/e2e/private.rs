//! End to end private streams against the loopback venue: MEXC (listen key) and Gate.io spot
//! and futures (per-request auth). The simulated accounts' order lifecycles arrive complete and
//! in order; a wrong secret is refused without a reconnect loop; streams come back after a
//! reset with a `PrivateGap`; a MEXC listen key that vanished is renewed.

use crate::support::loopback_feeds;
use cexfeed::config::{Runtime, WaitMode};
use cexfeed::engine::FeedSetup;
use cexfeed::engine::{Engine, EngineConfig, StrategyRx};
use cexfeed::event::OrderStatus;
use cexfeed::ring::{Body, StatusKind};
use cexfeed::secret::Secret;
use cexfeed::types::{Market, Venue};
use cexfeed_venue::{Scenario, Target, Venue as LoopbackVenue, VenueConfig, VenueHandle};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

pub(crate) const FEEDS: [(Venue, Market); 3] = [
    (Venue::Mexc, Market::Spot),
    (Venue::Gateio, Market::Spot),
    (Venue::Gateio, Market::Futures),
];

pub(crate) fn setups(venue: &VenueHandle) -> Vec<FeedSetup> {
    loopback_feeds(
        venue,
        &Runtime::default(),
        WaitMode::Block,
        true,
        Duration::from_secs(5),
    )
}

pub(crate) fn engine(feeds: Vec<FeedSetup>) -> Engine {
    Engine::new(EngineConfig {
        feeds,
        ring_capacity: 4096,
        top_n: 10,
        book_pool: 8192,
        control_core: None,
    })
    .unwrap()
}

pub(crate) fn bind_private(engine: &mut Engine, rx: &StrategyRx) {
    for ch in [
        "mexc.spot.orders",
        "mexc.spot.fills",
        "mexc.spot.balances",
        "gateio.spot.orders",
        "gateio.spot.fills",
        "gateio.spot.balances",
        "gateio.futures.orders",
        "gateio.futures.fills",
        "gateio.futures.positions",
        "gateio.futures.balances",
    ] {
        engine.bind(ch, rx.id()).unwrap();
    }
}

pub(crate) fn fi(v: Venue, m: Market) -> usize {
    FEEDS.iter().position(|x| *x == (v, m)).unwrap()
}

#[derive(Default, Debug)]
pub(crate) struct Acct {
    /// Order id → statuses in arrival order.
    pub(crate) orders: HashMap<String, Vec<OrderStatus>>,
    /// Order id → fills.
    pub(crate) fills: HashMap<String, u32>,
    pub(crate) balances: u64,
    pub(crate) positions: u64,
    pub(crate) errors: Vec<(i64, String)>,
    pub(crate) gaps: u64,
    /// Private events (orders, fills, balances, positions) after the last PrivateGap.
    pub(crate) after_gap: u64,
    /// Orders with an update delivered by a gap's reconciliation (issue 17): the updates the
    /// stream missed are summarised (one closing update for several fills), so their fills are
    /// not counted against their updates (`private_state.rs` checks them against the venue).
    pub(crate) reconciled: std::collections::HashSet<String>,
}

/// Deadline for a condition a test waits for: generous, so a machine busy on every core meets it.
pub(crate) const LIMIT: Duration = Duration::from_secs(20);

/// Drains until `done` holds or `limit` passed (then panics): the condition, not the time, is
/// what the test waits for.
pub(crate) fn drain_until(
    rx: &mut StrategyRx,
    acct: &mut [Acct; 3],
    what: &str,
    mut done: impl FnMut(&[Acct; 3]) -> bool,
) {
    let deadline = Instant::now() + LIMIT;
    while !done(acct) {
        assert!(
            Instant::now() < deadline,
            "{what}: not within {LIMIT:?}: {acct:?}"
        );
        drain(rx, acct, Duration::from_millis(20));
    }
}

/// Orders seen through to a final status.
pub(crate) fn completed(a: &Acct) -> usize {
    a.orders
        .values()
        .filter(|s| s.last().is_some_and(|x| x.is_final()))
        .count()
}

pub(crate) fn drain(rx: &mut StrategyRx, acct: &mut [Acct; 3], dur: Duration) {
    let deadline = Instant::now() + dur;
    while Instant::now() < deadline {
        let Some(ev) = rx.try_recv() else {
            std::thread::sleep(Duration::from_micros(500));
            continue;
        };
        let a = &mut acct[fi(ev.header.venue, ev.header.market)];
        match ev.body {
            Body::Order {
                status, order_id, ..
            } => {
                a.orders
                    .entry(order_id.as_str().to_string())
                    .or_default()
                    .push(status);
                if ev.header.flags & cexfeed::ring::FLAG_RECONCILED != 0 {
                    a.reconciled.insert(order_id.as_str().to_string());
                }
                a.after_gap += 1;
            }
            Body::Fill { order_id, .. } => {
                *a.fills.entry(order_id.as_str().to_string()).or_default() += 1;
                a.after_gap += 1;
            }
            Body::Balance { .. } => {
                a.balances += 1;
                a.after_gap += 1;
            }
            Body::Position { .. } => {
                a.positions += 1;
                a.after_gap += 1;
            }
            Body::Status {
                kind: StatusKind::PrivateGap,
                from_ns,
                to_ns,
            } => {
                assert!(to_ns >= from_ns && from_ns > 0);
                a.gaps += 1;
                a.after_gap = 0;
            }
            Body::Error { code, message, .. } => {
                a.errors.push((code, message.as_str().to_string()))
            }
            _ => {}
        }
    }
}

fn rank(s: OrderStatus) -> u8 {
    match s {
        OrderStatus::New => 0,
        OrderStatus::PartiallyFilled => 1,
        _ => 2,
    }
}

/// Per order: statuses never go back, nothing after a terminal status, and every order seen
/// from its `New` has exactly one fill per (partial) fill update. Returns complete orders.
pub(crate) fn check_lifecycles(name: &str, a: &Acct) -> usize {
    let mut complete = 0;
    for (id, st) in &a.orders {
        for w in st.windows(2) {
            assert!(
                rank(w[0]) <= rank(w[1]) && rank(w[0]) < 2,
                "{name} order {id}: statuses out of order {st:?}"
            );
        }
        if st[0] == OrderStatus::New && rank(*st.last().unwrap()) == 2 {
            complete += 1;
            if a.reconciled.contains(id) {
                continue;
            }
            let fill_updates = st
                .iter()
                .filter(|s| matches!(s, OrderStatus::PartiallyFilled | OrderStatus::Filled))
                .count() as u32;
            assert_eq!(
                a.fills.get(id).copied().unwrap_or(0),
                fill_updates,
                "{name} order {id}: {st:?}"
            );
        }
    }
    complete
}

#[test]
fn private_lifecycles_arrive_complete_and_in_order() {
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 200,
        private_period: Duration::from_millis(100),
        ..VenueConfig::default()
    })
    .unwrap();
    let mut engine = engine(setups(&venue));
    let mut rx = engine.consumer().unwrap();
    bind_private(&mut engine, &rx);
    engine.start().unwrap();
    let mut acct: [Acct; 3] = Default::default();
    drain(&mut rx, &mut acct, Duration::from_secs(5));
    drain_until(&mut rx, &mut acct, "orders, balances, positions", |acct| {
        FEEDS.iter().zip(acct).all(|((_, m), a)| {
            completed(a) >= 3 && a.balances >= 5 && (*m != Market::Futures || a.positions >= 3)
        })
    });
    let views = engine.views();
    let _ = engine.stop();
    // The MEXC listen key was closed at shutdown (DELETE, best effort).
    let creds = cexfeed::exchange::mexc::Credentials::new(
        cexfeed_venue::MEXC_API_KEY,
        cexfeed_venue::MEXC_API_SECRET,
    );
    let list = mexc_call(
        &venue,
        cexfeed::exchange::mexc::list_listen_keys_request(&creds, cexfeed::types::wall_ms()),
    );
    let keys = cexfeed::exchange::mexc::parse_listen_key_list(200, list.as_bytes()).unwrap();
    assert!(keys.is_empty(), "listen key left open: {list}");
    for (i, (v, m)) in FEEDS.iter().enumerate() {
        let name = format!("{}.{}", v.as_str(), m.as_str());
        let a = &acct[i];
        assert!(a.errors.is_empty(), "{name}: {:?}", a.errors);
        let complete = check_lifecycles(&name, a);
        eprintln!(
            "{name}: {} orders, {complete} complete, {} fills, {} balances, {} positions",
            a.orders.len(),
            a.fills.values().sum::<u32>(),
            a.balances,
            a.positions
        );
        assert!(complete >= 3, "{name}: {complete} complete orders {a:?}");
        assert!(a.balances >= 5, "{name}: {a:?}");
        if *m == Market::Futures {
            assert!(a.positions >= 3, "{name}: {a:?}");
        }
        let view = views
            .iter()
            .find(|x| x.venue == *v && x.market == *m)
            .unwrap();
        assert_eq!(view.shared.stats.auth_failures.load(Ordering::Relaxed), 0);
    }
    venue.stop();
}

#[test]
fn wrong_secret_is_refused_without_a_reconnect_loop() {
    let venue = LoopbackVenue::start(VenueConfig {
        private_period: Duration::from_millis(100),
        ..VenueConfig::default()
    })
    .unwrap();
    let mut feeds = setups(&venue);
    for f in &mut feeds {
        if let Some(c) = f.credentials.as_mut() {
            c.api_secret = Secret::new("definitely-not-the-secret");
        }
    }
    let mut engine = engine(feeds);
    let mut rx = engine.consumer().unwrap();
    bind_private(&mut engine, &rx);
    engine.start().unwrap();
    let mut acct: [Acct; 3] = Default::default();
    drain(&mut rx, &mut acct, Duration::from_secs(4));
    let views = engine.views();
    for (i, (v, m)) in FEEDS.iter().enumerate() {
        let name = format!("{}.{}", v.as_str(), m.as_str());
        let a = &acct[i];
        assert!(!a.errors.is_empty(), "{name}: no error event {a:?}");
        assert!(a.orders.is_empty() && a.balances == 0, "{name}: {a:?}");
        let view = views
            .iter()
            .find(|x| x.venue == *v && x.market == *m)
            .unwrap();
        let fails = view.shared.stats.auth_failures.load(Ordering::Relaxed);
        eprintln!("{name}: {fails} auth failures, errors {:?}", a.errors);
        // Refused, and retried with backoff, not in a loop.
        assert!((1..=4).contains(&fails), "{name}: auth failures {fails}");
        let net = view.net.as_ref().unwrap().snapshot();
        assert!(net.connects <= 2, "{name}: {net:?}");
    }
    let mexc_err = &acct[0].errors[0];
    assert_eq!(mexc_err.0, 700002, "{mexc_err:?}");
    let _ = engine.stop();
    venue.stop();
}

#[test]
fn private_streams_recover_after_reset_with_a_gap_status() {
    let connects = private_fault(Scenario::Reset);
    for (name, n) in connects {
        assert!((2..=4).contains(&n), "{name}: {n} connects");
    }
}

/// The private fault set-up (here and in `private_state`): a venue whose account steps every
/// 100 ms, striking `scenario` on every connection 1.5 s in and quiet after 2 s, and an
/// engine, not started, on its three private feeds (2 s idle timeout, pings every 500 ms).
pub(crate) fn private_fault_engine(scenario: Scenario) -> (VenueHandle, Engine) {
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 200,
        private_period: Duration::from_millis(100),
        scenarios: vec![(scenario, Target::All)],
        fault_period: Duration::from_millis(1500),
        quiet_after: Some(Duration::from_millis(2000)),
        ..VenueConfig::default()
    })
    .unwrap();
    let mut feeds = loopback_feeds(
        &venue,
        &Runtime::default(),
        WaitMode::Block,
        true,
        Duration::from_secs(2),
    );
    for f in &mut feeds {
        f.ping_interval = Duration::from_millis(500);
    }
    (venue, engine(feeds))
}

/// The private column of the fault matrix (issue 12): each connection fault against the three
/// private streams at once. Each stream comes back authenticated by itself, reports the outage
/// as one `PrivateGap` or more, delivers events again after it, and no order's lifecycle goes
/// back or loses a fill. Returns (feed, connections made).
fn private_fault(scenario: Scenario) -> Vec<(String, u64)> {
    let (venue, mut engine) = private_fault_engine(scenario);
    let mut rx = engine.consumer().unwrap();
    bind_private(&mut engine, &rx);
    engine.start().unwrap();
    let mut acct: [Acct; 3] = Default::default();
    drain(&mut rx, &mut acct, Duration::from_millis(5000));
    drain_until(&mut rx, &mut acct, "events after a gap", |acct| {
        acct.iter().all(|a| a.gaps >= 1 && a.after_gap >= 10)
    });
    let views = engine.views();
    let mut out = Vec::new();
    for (i, (v, m)) in FEEDS.iter().enumerate() {
        let name = format!("{scenario:?} {}.{}", v.as_str(), m.as_str());
        let a = &acct[i];
        assert!(a.gaps >= 1, "{name}: no PrivateGap {a:?}");
        assert!(
            a.after_gap >= 10,
            "{name}: events stopped after the gap {a:?}"
        );
        check_lifecycles(&name, a);
        let view = views
            .iter()
            .find(|x| x.venue == *v && x.market == *m)
            .unwrap();
        let net = view.net.as_ref().unwrap().snapshot();
        let auth_failures = view.shared.stats.auth_failures.load(Ordering::Relaxed);
        eprintln!(
            "{name}: gaps {} after {} connects {} auth failures {auth_failures}",
            a.gaps, a.after_gap, net.connects
        );
        assert!(net.connects >= 2, "{name}: never reconnected {net:?}");
        assert_eq!(
            auth_failures, 0,
            "{name}: authentication failed after the fault"
        );
        out.push((name, net.connects));
    }
    let _ = engine.stop();
    venue.stop();
    out
}

#[test]
fn private_matrix_close() {
    private_fault(Scenario::Close);
}

#[test]
fn private_matrix_silent() {
    private_fault(Scenario::Silent);
}

#[test]
fn private_matrix_no_pong() {
    private_fault(Scenario::NoPong);
}

/// Signed call to the venue's user-data-stream endpoint from the test (not through the feed).
pub(crate) fn mexc_call(
    venue: &VenueHandle,
    req: cexfeed::exchange::mexc::SignedRequest,
) -> String {
    use cexfeed::exchange::mexc::HttpMethod as M;
    let url = req.url(&venue.mexc_rest_url());
    let method = match req.method {
        M::Get => ureq::http::Method::GET,
        M::Post => ureq::http::Method::POST,
        M::Put => ureq::http::Method::PUT,
        M::Delete => ureq::http::Method::DELETE,
    };
    let mut b = ureq::http::Request::builder().method(method).uri(&url);
    for (k, v) in &req.headers {
        b = b.header(*k, v.as_str());
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent.run(b.body(Vec::<u8>::new()).unwrap()).unwrap();
    resp.body_mut().read_to_string().unwrap()
}

#[test]
fn mexc_listen_key_that_vanished_is_renewed() {
    use cexfeed::exchange::mexc as mx;
    let venue = LoopbackVenue::start(VenueConfig {
        private_period: Duration::from_millis(100),
        ..VenueConfig::default()
    })
    .unwrap();
    let mut feeds: Vec<FeedSetup> = setups(&venue)
        .into_iter()
        .filter(|f| f.venue == Venue::Mexc)
        .collect();
    feeds[0].listen_key_keepalive = Duration::from_millis(300);
    let mut engine = engine(feeds);
    let mut rx = engine.consumer().unwrap();
    for ch in ["mexc.spot.orders", "mexc.spot.fills", "mexc.spot.balances"] {
        engine.bind(ch, rx.id()).unwrap();
    }
    engine.start().unwrap();
    let mut acct: [Acct; 3] = Default::default();
    drain_until(&mut rx, &mut acct, "balances", |a| a[0].balances > 0);
    // Close every key of the account behind the feed's back, then drop the connection.
    let creds = mx::Credentials::new(cexfeed_venue::MEXC_API_KEY, cexfeed_venue::MEXC_API_SECRET);
    let list = mexc_call(
        &venue,
        mx::list_listen_keys_request(&creds, cexfeed::types::wall_ms()),
    );
    let keys = mx::parse_listen_key_list(200, list.as_bytes()).unwrap();
    assert!(!keys.is_empty(), "{list}");
    for k in &keys {
        mexc_call(
            &venue,
            mx::close_listen_key_request(&creds, k, cexfeed::types::wall_ms(), None),
        );
    }
    drain_until(&mut rx, &mut acct, "events after the renewal", |a| {
        a[0].gaps >= 1 && a[0].after_gap >= 5
    });
    let a = &acct[0];
    assert!(a.gaps >= 1, "no PrivateGap after renewal: {a:?}");
    assert!(a.after_gap >= 5, "events stopped: {a:?}");
    check_lifecycles("mexc", a);
    let view = &engine.views()[0];
    assert!(view.shared.stats.auth_failures.load(Ordering::Relaxed) >= 1);
    let _ = engine.stop();
    venue.stop();
}

#[test]
fn mexc_refused_listen_key_is_retried_with_backoff_then_streams() {
    // The venue refuses the first (correctly signed) listen-key creation with 700002.
    let venue = LoopbackVenue::start(VenueConfig {
        private_period: Duration::from_millis(100),
        scenarios: vec![(Scenario::AuthFail, Target::All)],
        fault_period: Duration::from_secs(60),
        ..VenueConfig::default()
    })
    .unwrap();
    let feeds: Vec<FeedSetup> = setups(&venue)
        .into_iter()
        .filter(|f| f.venue == Venue::Mexc)
        .collect();
    let mut engine = engine(feeds);
    let mut rx = engine.consumer().unwrap();
    for ch in ["mexc.spot.orders", "mexc.spot.balances"] {
        engine.bind(ch, rx.id()).unwrap();
    }
    engine.start().unwrap();
    let mut acct: [Acct; 3] = Default::default();
    drain_until(&mut rx, &mut acct, "the refusal", |a| {
        !a[0].errors.is_empty()
    });
    assert_eq!(acct[0].errors.len(), 1, "{:?}", acct[0]);
    assert_eq!(acct[0].errors[0].0, 700002);
    assert_eq!(
        acct[0].balances, 0,
        "streamed before the retry: {:?}",
        acct[0]
    );
    // Retried after the 2 s backoff, then the stream runs.
    drain_until(&mut rx, &mut acct, "the stream after the retry", |a| {
        a[0].balances >= 3 && !a[0].orders.is_empty()
    });
    let a = &acct[0];
    assert!(a.balances >= 3 && !a.orders.is_empty(), "{a:?}");
    let view = &engine.views()[0];
    assert_eq!(view.shared.stats.auth_failures.load(Ordering::Relaxed), 1);
    assert_eq!(view.net.as_ref().unwrap().snapshot().connects, 1);
    let _ = engine.stop();
    venue.stop();
}
