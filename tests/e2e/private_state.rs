//! Private state, complete (issue 17), end to end against the loopback venue: the start-up
//! state arrives (flagged, before any stream update), a private stream cut mid-lifecycle with
//! fills during the outage ends with each consumer holding exactly the venue account's open
//! orders, fills, balances and positions (no duplicate fill, no missed fill), the venue
//! refuses a bad signature with the exchange's error shape, and a failing reconciliation is
//! retried while its gap stays open.

use crate::private::{bind_private, engine, fi, private_fault_engine, FEEDS, LIMIT};
use crate::support::loopback_feeds;
use cexfeed::config::{Runtime, WaitMode};
use cexfeed::engine::{Engine, FeedSetup, StrategyRx};
use cexfeed::event::OrderStatus;
use cexfeed::ring::{Body, StatusKind, BAL_TOTAL, FLAG_RECONCILED, FLAG_SNAPSHOT};
use cexfeed::types::{Dec, Market, Qty, SymbolId, Venue};
use cexfeed_venue::{Scenario, Venue as LoopbackVenue, VenueConfig, VenueHandle, VenueId};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What a strategy holds of one private feed, built from the events alone.
#[derive(Default, Debug)]
struct Held {
    /// Order id → (last status, filled).
    orders: HashMap<String, (OrderStatus, Qty)>,
    /// Trade id → times delivered.
    fills: HashMap<String, u32>,
    /// Asset (upper case) → total.
    balances: HashMap<String, Dec>,
    /// Contract → signed size.
    positions: HashMap<String, Qty>,
    snapshot_events: u64,
    /// Private events without `FLAG_SNAPSHOT` before the `PrivateSnapshot` status.
    stream_before_snapshot: u64,
    snapshot_done: bool,
    /// Wall clock when `PrivateSnapshot` arrived.
    snapshot_wall_ms: i64,
    gaps: u64,
    closed: u64,
    reconciled: u64,
    reconciled_fills: u64,
    errors: Vec<(i64, String)>,
}

/// Symbol id → name, from the engine's registry (ids are assigned by `Engine::new`).
fn names(engine: &Engine) -> HashMap<SymbolId, String> {
    engine
        .registry()
        .iter()
        .map(|(id, m)| (id, m.name.to_string()))
        .collect()
}

fn drain(
    rx: &mut StrategyRx,
    held: &mut [Held; 3],
    names: &HashMap<SymbolId, String>,
    dur: Duration,
) {
    let deadline = Instant::now() + dur;
    while Instant::now() < deadline {
        let Some(ev) = rx.try_recv() else {
            std::thread::sleep(Duration::from_micros(500));
            continue;
        };
        let h = &mut held[fi(ev.header.venue, ev.header.market)];
        let flags = ev.header.flags;
        let private = matches!(
            ev.body,
            Body::Order { .. } | Body::Fill { .. } | Body::Balance { .. } | Body::Position { .. }
        );
        if private {
            if flags & FLAG_SNAPSHOT != 0 {
                h.snapshot_events += 1;
            } else if !h.snapshot_done {
                h.stream_before_snapshot += 1;
            }
            if flags & FLAG_RECONCILED != 0 {
                h.reconciled += 1;
            }
        }
        match ev.body {
            Body::Order {
                order_id,
                status,
                filled,
                ..
            } => {
                h.orders
                    .insert(order_id.as_str().to_string(), (status, filled));
            }
            Body::Fill { trade_id, .. } => {
                *h.fills.entry(trade_id.as_str().to_string()).or_default() += 1;
                if flags & FLAG_RECONCILED != 0 {
                    h.reconciled_fills += 1;
                }
            }
            Body::Balance {
                asset,
                present,
                total,
                available,
                locked,
                ..
            } => {
                let t = if present & BAL_TOTAL != 0 {
                    total.get()
                } else {
                    available.get().checked_add(locked.get()).unwrap()
                };
                h.balances.insert(asset.as_str().to_ascii_uppercase(), t);
            }
            Body::Position { size, .. } => {
                let name = names.get(&ev.header.symbol).cloned().unwrap_or_default();
                h.positions.insert(name, size);
            }
            Body::Status { kind, .. } => match kind {
                StatusKind::PrivateSnapshot => {
                    h.snapshot_done = true;
                    h.snapshot_wall_ms = cexfeed::types::wall_ms();
                }
                StatusKind::PrivateGap => h.gaps += 1,
                StatusKind::PrivateGapClosed => h.closed += 1,
                _ => {}
            },
            Body::Error { code, message, .. } => {
                h.errors.push((code, message.as_str().to_string()))
            }
            _ => {}
        }
    }
}

fn drain_until(
    rx: &mut StrategyRx,
    held: &mut [Held; 3],
    names: &HashMap<SymbolId, String>,
    what: &str,
    mut done: impl FnMut(&[Held; 3]) -> bool,
) {
    let deadline = Instant::now() + LIMIT;
    while !done(held) {
        assert!(
            Instant::now() < deadline,
            "{what}: not within {LIMIT:?}: {held:#?}"
        );
        drain(rx, held, names, Duration::from_millis(20));
    }
}

fn venue_id(v: Venue) -> VenueId {
    match v {
        Venue::Mexc => VenueId::Mexc,
        Venue::Gateio => VenueId::Gateio,
    }
}

fn venue_market(m: Market) -> cexfeed_venue::Market {
    match m {
        Market::Spot => cexfeed_venue::Market::Spot,
        Market::Futures => cexfeed_venue::Market::Futures,
    }
}

/// Differences between what the consumer holds and the venue account (empty = equal). Fills:
/// none twice, none the venue does not have, and every venue fill since the start-up state
/// was delivered (earlier ones are history the strategy never asked for).
fn differences(venue: &VenueHandle, v: Venue, m: Market, h: &Held) -> Vec<String> {
    let view = venue
        .account_view(venue_id(v), venue_market(m))
        .expect("account");
    let mut out = Vec::new();
    let open: HashMap<String, Qty> = h
        .orders
        .iter()
        .filter(|(_, (s, _))| !s.is_final())
        .map(|(id, (_, f))| (id.clone(), *f))
        .collect();
    let want: HashMap<String, Qty> = view
        .open_orders
        .iter()
        .map(|(id, f)| (id.clone(), f.parse::<Qty>().unwrap()))
        .collect();
    if open != want {
        out.push(format!("open orders: held {open:?}, venue {want:?}"));
    }
    for (id, n) in &h.fills {
        if *n != 1 {
            out.push(format!("fill {id} delivered {n} times"));
        }
        if !view.fills.iter().any(|(t, _)| t == id) {
            out.push(format!("fill {id} unknown to the venue"));
        }
    }
    for (id, t) in &view.fills {
        if *t >= h.snapshot_wall_ms && !h.fills.contains_key(id) {
            out.push(format!("fill {id} at {t} missed"));
        }
    }
    let balances: HashMap<String, Dec> = view
        .balances
        .iter()
        .map(|(c, t)| (c.to_ascii_uppercase(), t.parse::<Dec>().unwrap()))
        .collect();
    if balances != h.balances {
        out.push(format!(
            "balances: held {:?}, venue {balances:?}",
            h.balances
        ));
    }
    let positions: HashMap<String, Qty> = view
        .positions
        .iter()
        .map(|(c, s)| (c.clone(), Qty::from_int(s.parse::<i64>().unwrap())))
        .collect();
    if positions != h.positions {
        out.push(format!(
            "positions: held {:?}, venue {positions:?}",
            h.positions
        ));
    }
    out
}

/// Pause the venue's account and wait (condition, generous deadline) until every consumer
/// holds what the venue holds; panics naming the differences otherwise.
fn settle_and_compare(
    venue: &VenueHandle,
    rx: &mut StrategyRx,
    held: &mut [Held; 3],
    names: &HashMap<SymbolId, String>,
) {
    venue.pause(true);
    let deadline = Instant::now() + LIMIT;
    loop {
        drain(rx, held, names, Duration::from_millis(50));
        let diffs: Vec<(usize, Vec<String>)> = FEEDS
            .iter()
            .enumerate()
            .map(|(i, (v, m))| (i, differences(venue, *v, *m, &held[i])))
            .filter(|(_, d)| !d.is_empty())
            .collect();
        if diffs.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "private state differs from the venue account: {diffs:#?}"
        );
    }
}

#[test]
fn issue17_startup_state_arrives_flagged_before_any_stream_update() {
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 200,
        private_period: Duration::from_millis(100),
        ..VenueConfig::default()
    })
    .unwrap();
    let feeds = loopback_feeds(
        &venue,
        &Runtime::default(),
        WaitMode::Block,
        true,
        Duration::from_secs(5),
    );
    let mut engine = engine(feeds);
    let names = names(&engine);
    let mut rx = engine.consumer().unwrap();
    bind_private(&mut engine, &rx);
    engine.start().unwrap();
    let mut held: [Held; 3] = Default::default();
    drain_until(
        &mut rx,
        &mut held,
        &names,
        "start-up state and stream",
        |h| h.iter().all(|h| h.snapshot_done && h.orders.len() >= 3),
    );
    for (i, (v, m)) in FEEDS.iter().enumerate() {
        let h = &held[i];
        let name = format!("{}.{}", v.as_str(), m.as_str());
        assert!(h.snapshot_events >= 1, "{name}: no start-up state {h:?}");
        assert_eq!(
            h.stream_before_snapshot, 0,
            "{name}: stream update before the state {h:?}"
        );
        assert!(h.balances.contains_key("USDT"), "{name}: {h:?}");
        assert!(h.errors.is_empty(), "{name}: {:?}", h.errors);
    }
    settle_and_compare(&venue, &mut rx, &mut held, &names);
    let _ = engine.stop();
    venue.stop();
}

#[test]
fn issue17_private_cut_mid_lifecycle_ends_with_the_venue_accounts_state() {
    // Every private stream goes silent once, 1.5 s in, for the 2 s idle timeout and the
    // reconnect: ~20 account steps (fills among them) happen while nothing is pushed. The
    // venue answers own trades 3 a page, so the reconciliation must page through them.
    let (venue, mut engine) = private_fault_engine(Scenario::Silent);
    let names = names(&engine);
    let mut rx = engine.consumer().unwrap();
    bind_private(&mut engine, &rx);
    venue.set_account_page_cap(3);
    engine.start().unwrap();
    let mut held: [Held; 3] = Default::default();
    drain_until(&mut rx, &mut held, &names, "gaps reconciled", |h| {
        h.iter()
            .all(|h| h.gaps >= 1 && h.closed == h.gaps && h.reconciled_fills >= 3)
    });
    let views = engine.views();
    for (i, (v, m)) in FEEDS.iter().enumerate() {
        let h = &held[i];
        let name = format!("{}.{}", v.as_str(), m.as_str());
        let view = views
            .iter()
            .find(|x| x.venue == *v && x.market == *m)
            .unwrap();
        let st = &view.shared.stats;
        eprintln!(
            "{name}: gaps {} closed {} reconciled {} (fills {}) snapshot {} duplicates dropped {}",
            h.gaps,
            h.closed,
            h.reconciled,
            h.reconciled_fills,
            h.snapshot_events,
            st.private_duplicates.load(Ordering::Relaxed)
        );
        assert_eq!(h.stream_before_snapshot, 0, "{name}: {h:?}");
        assert!(
            st.reconciled.load(Ordering::Relaxed) >= h.reconciled_fills,
            "{name}"
        );
        assert_eq!(st.gaps_open.load(Ordering::Relaxed), 0, "{name}");
    }
    settle_and_compare(&venue, &mut rx, &mut held, &names);
    // Rate limits: each feed's signed calls were paced (the next leaves Gate 100 ms, MEXC
    // 250 ms after the previous answer, so arrives at least that long after it).
    for (v, m) in FEEDS {
        let t = venue.account_rest_times(venue_id(v), venue_market(m));
        assert!(t.len() >= 4, "{v:?} {m:?}: {} calls", t.len());
        let pace = if v == Venue::Mexc { 250 } else { 100 };
        let least = t.windows(2).map(|w| w[1] - w[0]).min().unwrap();
        eprintln!(
            "{v:?} {m:?}: {} signed calls, least spacing {least:?}",
            t.len()
        );
        assert!(
            least >= Duration::from_millis(pace),
            "{v:?} {m:?}: calls {least:?} apart"
        );
    }
    let _ = engine.stop();
    venue.stop();
}

/// Signed `GET` of the venue's account endpoints from the test, with the library's signing.
fn get(url: &str, headers: &[(String, String)]) -> (u16, String) {
    let mut b = ureq::http::Request::builder().method("GET").uri(url);
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent.run(b.body(Vec::<u8>::new()).unwrap()).unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap())
}

fn gate_headers(secret: &str, path: &str, query: &str) -> Vec<(String, String)> {
    let ts = cexfeed::types::wall_ms() / 1000;
    let mut sign = String::new();
    cexfeed::exchange::gateio::auth::sign_rest(
        &mut sign,
        &cexfeed::secret::Secret::new(secret),
        "GET",
        path,
        query,
        b"",
        ts,
    );
    vec![
        ("KEY".into(), cexfeed_venue::GATE_API_KEY.into()),
        ("SIGN".into(), sign),
        ("Timestamp".into(), ts.to_string()),
    ]
}

#[test]
fn issue17_bad_account_rest_signatures_are_refused_by_the_venue() {
    let venue = LoopbackVenue::start(VenueConfig::default()).unwrap();
    let base = venue.gate_rest_url();
    for (path, query) in [
        ("/api/v4/spot/open_orders", ""),
        (
            "/api/v4/spot/my_trades",
            "currency_pair=BTC_USDT&from=0&limit=1000",
        ),
        ("/api/v4/futures/usdt/positions", ""),
    ] {
        let url = if query.is_empty() {
            format!("{base}{path}")
        } else {
            format!("{base}{path}?{query}")
        };
        let (s, body) = get(
            &url,
            &gate_headers(cexfeed_venue::GATE_API_SECRET, path, query),
        );
        assert_eq!(s, 200, "{path}: {body}");
        let (s, body) = get(&url, &gate_headers("not-the-secret", path, query));
        assert_eq!(s, 401, "{path}: {body}");
        assert!(body.contains("INVALID_SIGNATURE"), "{path}: {body}");
        // Signed for another query: refused too.
        let (s, _) = get(
            &format!("{base}{path}?limit=1"),
            &gate_headers(cexfeed_venue::GATE_API_SECRET, path, query),
        );
        assert_eq!(s, 401, "{path}");
    }
    use cexfeed::exchange::mexc as mx;
    let good = mx::Credentials::new(cexfeed_venue::MEXC_API_KEY, cexfeed_venue::MEXC_API_SECRET);
    let bad = mx::Credentials::new(cexfeed_venue::MEXC_API_KEY, "not-the-secret");
    let now = cexfeed::types::wall_ms();
    for (creds, ok) in [(&good, true), (&bad, false)] {
        for req in [
            mx::account::open_orders_request(creds, "BTCUSDT", now),
            mx::account::my_trades_request(creds, "BTCUSDT", 0, None, now),
            mx::account::account_request(creds, now),
        ] {
            let headers: Vec<(String, String)> = req
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            let (s, body) = get(&req.url(&venue.mexc_rest_url()), &headers);
            if ok {
                assert_eq!(s, 200, "{body}");
            } else {
                assert_eq!(s, 400, "{body}");
                assert!(body.contains("700002"), "{body}");
            }
        }
    }
    venue.stop();
}

#[test]
fn issue17_failing_reconciliation_is_retried_and_its_gap_stays_open() {
    // Once Gate spot's start-up state is in, its account REST is made to fail three times and
    // a private gap is reported (test hook: as after a reconnect, without one, so the timing
    // does not depend on a fault's schedule); retried after 1 s, 2 s, 4 s, the fourth try
    // closes the gap.
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 200,
        private_period: Duration::from_millis(100),
        ..VenueConfig::default()
    })
    .unwrap();
    let feeds: Vec<FeedSetup> = loopback_feeds(
        &venue,
        &Runtime::default(),
        WaitMode::Block,
        true,
        Duration::from_secs(5),
    )
    .into_iter()
    .filter(|f| f.venue == Venue::Gateio && f.market == Market::Spot)
    .collect();
    let mut engine = engine(feeds);
    let names = names(&engine);
    let mut rx = engine.consumer().unwrap();
    for ch in [
        "gateio.spot.orders",
        "gateio.spot.fills",
        "gateio.spot.balances",
    ] {
        engine.bind(ch, rx.id()).unwrap();
    }
    engine.start().unwrap();
    let mut held: [Held; 3] = Default::default();
    let g = fi(Venue::Gateio, Market::Spot);
    drain_until(&mut rx, &mut held, &names, "start-up state", |h| {
        h[g].snapshot_done
    });
    venue.fail_account_rest(VenueId::Gateio, cexfeed_venue::Market::Spot, 3);
    assert!(engine.inject_private_gap(Venue::Gateio, Market::Spot));
    let view = engine.views().remove(0);
    let stats = &view.shared.stats;
    drain_until(&mut rx, &mut held, &names, "a failed reconciliation", |h| {
        h[g].gaps >= 1 && stats.recon_failures.load(Ordering::Relaxed) >= 1
    });
    // Failed: the gap is open, visibly (stat, an error event to the strategy), and not
    // reported closed.
    assert!(stats.gaps_open.load(Ordering::Relaxed) >= 1);
    assert_eq!(held[g].closed, 0, "{:?}", held[g]);
    drain_until(&mut rx, &mut held, &names, "the failure told", |h| {
        h[g].errors
            .iter()
            .any(|(code, m)| *code == 500 && m == cexfeed::engine::RECON_FAILED_TEXT)
    });
    drain_until(
        &mut rx,
        &mut held,
        &names,
        "the gap closed after the retries",
        |h| h[g].closed >= 1 && h[g].closed == h[g].gaps,
    );
    assert!(stats.recon_failures.load(Ordering::Relaxed) >= 3);
    assert_eq!(stats.gaps_open.load(Ordering::Relaxed), 0);
    let texts = view.shared.error_texts();
    assert!(
        texts.iter().any(|t| t.contains("private state REST")),
        "{texts:?}"
    );
    for t in &texts {
        assert!(
            !t.contains(cexfeed_venue::GATE_API_SECRET) && !t.contains(cexfeed_venue::GATE_API_KEY),
            "{t}"
        );
    }
    let _ = engine.stop();
    venue.stop();
}
