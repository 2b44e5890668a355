//! Gate.io subscription lifecycle (issue 13, findings 1, 2, 6 and 11): resubscribing an `obu`
//! stream only after its unsubscribe is acknowledged, a deadline on every resyncing book,
//! retries of transient refusals (and none of permanent ones), `*.system` notices. Real feed
//! threads against the loopback venue or a scripted loopback server; every wait is a condition
//! with a generous deadline.

use crate::reliability::{engine_for, fake_setup};
use crate::support::loopback_feeds;
use crate::support::net::{serve, ws_accept};
use cexfeed::config::{Runtime, WaitMode};
use cexfeed::engine::{Engine, EngineConfig};
use cexfeed::ring::{Body, StatusKind};
use cexfeed::types::{BookState, Market, Venue};
use cexfeed_venue::{Scenario, Target, Venue as LoopbackVenue, VenueConfig};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tungstenite::Message;

/// Deadline for a condition: generous, so a machine busy on every core meets it.
const LIMIT: Duration = Duration::from_secs(20);

fn gate_spot_engine(
    venue: &cexfeed_venue::VenueHandle,
    extra_symbol: Option<&str>,
    resync_timeout_ms: u64,
) -> Engine {
    let rt = Runtime {
        book_depth: 2000,
        resync_timeout_ms,
        ..Runtime::default()
    };
    let mut feeds: Vec<_> =
        loopback_feeds(venue, &rt, WaitMode::Block, false, Duration::from_secs(5))
            .into_iter()
            .filter(|f| f.venue == Venue::Gateio && f.market == Market::Spot)
            .collect();
    for f in &mut feeds {
        f.ping_interval = Duration::from_millis(500);
        if let Some(s) = extra_symbol {
            f.symbols.push((Default::default(), s.to_string()));
        }
    }
    Engine::new(EngineConfig {
        feeds,
        ring_capacity: 4096,
        top_n: 10,
        book_pool: 8192,
        control_core: None,
    })
    .unwrap()
}

/// Finding 2: on a gap the feed used to send unsubscribe and subscribe back to back; Gate (and
/// now the venue) refuses the subscribe with `Alert sub` (code 2) because the unsubscribe is not
/// done yet, and the book stayed `Resyncing` for ever. Now the subscribe waits for the
/// unsubscribe's ack: every gap heals, no `Alert sub` reaches a consumer, and the final books
/// equal the venue's.
#[test]
fn issue13_finding2_obu_gap_resubscribes_only_after_the_unsubscribe_ack() {
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 400,
        scenarios: vec![(Scenario::Gap, Target::All)],
        fault_period: Duration::from_millis(600),
        quiet_after: Some(Duration::from_millis(3000)),
        private_period: Duration::ZERO,
        ..VenueConfig::default()
    })
    .unwrap();
    let mut engine = gate_spot_engine(&venue, None, 15_000);
    let mut rx = engine.consumer().unwrap();
    for s in ["BTC_USDT", "ETH_USDT"] {
        engine
            .bind(&format!("gateio.spot.orderbook.{s}"), rx.id())
            .unwrap();
    }
    engine.start().unwrap();
    let view = engine.views().remove(0);
    let mut errors = Vec::new();
    let end = Instant::now() + Duration::from_millis(4500);
    while Instant::now() < end {
        match rx.try_recv() {
            Some(ev) => {
                if let Body::Error { code, message, .. } = ev.body {
                    errors.push((code, message.as_str().to_string()));
                }
            }
            None => std::thread::sleep(Duration::from_micros(300)),
        }
    }
    let settled = crate::support::pause_and_settle(&venue, &engine, LIMIT);
    let gaps = view.shared.counters.snapshot().gaps;
    assert!(gaps > 0, "the venue's gaps were never seen");
    assert!(
        errors.iter().all(|(_, m)| !m.contains("Alert sub")),
        "a resubscribe raced its unsubscribe: {errors:?}"
    );
    assert!(
        settled,
        "books did not all come back live after {gaps} gaps"
    );
    for f in engine.stop() {
        for b in &f.books {
            let (seq, vb, va) =
                crate::support::venue_book(&venue, Venue::Gateio, Market::Spot, &b.symbol).unwrap();
            assert_eq!(b.state, BookState::Live, "{} not live", b.symbol);
            assert_eq!(b.seq, seq, "{} seq", b.symbol);
            assert_eq!(&b.bids[..10], &vb[..10], "{} bids", b.symbol);
            assert_eq!(&b.asks[..10], &va[..10], "{} asks", b.symbol);
        }
    }
    venue.stop();
}

/// `(connection index, event)` of every subscribe/unsubscribe a scripted server received.
type RequestLog = Arc<Mutex<Vec<(usize, String)>>>;

/// A scripted Gate server: answers every subscribe/unsubscribe with a success ack echoing the
/// request id (and `first_frames` after the first subscribe of each connection), pushes no data,
/// records `(connection, event)` of every request.
fn acking_server(first_frames: Vec<String>) -> (crate::support::net::Server, RequestLog) {
    let log: RequestLog = Arc::default();
    let l = log.clone();
    let srv = serve(None, 8, move |n, conn| {
        let mut ws = ws_accept(conn);
        let _ = ws
            .get_ref()
            .tcp()
            .set_read_timeout(Some(Duration::from_millis(50)));
        let end = Instant::now() + LIMIT;
        let mut sent_first = false;
        while Instant::now() < end {
            match ws.read() {
                Ok(Message::Text(t)) => {
                    let Ok(v) = serde_json::from_str::<serde_json::Value>(&t) else {
                        continue;
                    };
                    let ev = v["event"].as_str().unwrap_or("").to_string();
                    if ev != "subscribe" && ev != "unsubscribe" {
                        continue;
                    }
                    l.lock().unwrap().push((n, ev.clone()));
                    let ack = format!(
                        r#"{{"time":1,"time_ms":1000,"id":{},"channel":{},"event":"{ev}","payload":{},"error":null,"result":{{"status":"success"}}}}"#,
                        v["id"], v["channel"], v["payload"]
                    );
                    if ws.send(Message::text(ack)).is_err() {
                        return;
                    }
                    if ev == "subscribe" && !sent_first {
                        sent_first = true;
                        for f in &first_frames {
                            if ws.send(Message::text(f.clone())).is_err() {
                                return;
                            }
                        }
                    }
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return,
            }
        }
    });
    (srv, log)
}

/// Finding 2: a book that stays `Resyncing` (here: the venue acknowledges the `obu` subscribe
/// but never sends its `full` push) had no deadline and hung for ever. Now it is resubscribed
/// (unsubscribe, then subscribe after the ack) at its deadline, again at twice the deadline,
/// and then its connection is replaced.
#[test]
fn issue13_finding2_resyncing_book_has_a_deadline_resubscribe_then_reconnect() {
    let (srv, log) = acking_server(Vec::new());
    let mut setup = fake_setup(Venue::Gateio, Market::Spot, &srv.ws_url(), "BTC_USDT");
    setup.resync_timeout = Duration::from_millis(300);
    // Nothing but acks arrives: keep the idle and pong timeouts out of the way, so only the
    // resync deadline can replace the connection.
    setup.idle_timeout = Duration::from_secs(60);
    setup.ping_interval = Duration::from_secs(60);
    let mut engine = engine_for(setup);
    let rx = engine.consumer().unwrap();
    engine
        .bind("gateio.spot.orderbook.BTC_USDT", rx.id())
        .unwrap();
    engine.start().unwrap();
    let view = engine.views().remove(0);
    let end = Instant::now() + LIMIT;
    let on_second_conn = || log.lock().unwrap().iter().any(|(n, _)| *n >= 1);
    while Instant::now() < end && !on_second_conn() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let seen = log.lock().unwrap().clone();
    let first: Vec<&str> = seen
        .iter()
        .filter(|(n, _)| *n == 0)
        .map(|(_, e)| e.as_str())
        .collect();
    assert_eq!(
        first,
        [
            "subscribe",
            "unsubscribe",
            "subscribe",
            "unsubscribe",
            "subscribe"
        ],
        "two resubscribes (each subscribe after its unsubscribe's ack) on the first connection: {seen:?}"
    );
    assert!(
        on_second_conn(),
        "the third escalation did not replace the connection: {seen:?}"
    );
    assert!(
        view.shared.stats.resync_timeouts.load(Ordering::Relaxed) >= 3,
        "escalations counted"
    );
    engine.stop();
}

/// Finding 11: a transient refusal (Gate code 3, "server side error": the venue's `reject`
/// fault, which accepts the same request when asked again) was reported and never retried,
/// so the channel stayed silent for good. Now it is retried with backoff and its data flows.
/// A permanent refusal (code 2, an unknown pair) is reported exactly once: not retried, not
/// escalated by the resync deadline.
#[test]
fn issue13_finding11_transient_refusal_retried_permanent_reported_once() {
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 300,
        scenarios: vec![(Scenario::Reject, Target::Symbol("ETH_USDT".into()))],
        // Only the strike armed at start: the first ETH_USDT subscription is refused.
        fault_period: Duration::from_secs(3600),
        private_period: Duration::ZERO,
        ..VenueConfig::default()
    })
    .unwrap();
    let mut engine = gate_spot_engine(&venue, Some("NOPE_USDT"), 300);
    let mut rx = engine.consumer().unwrap();
    engine.bind("gateio.spot.trades.ETH_USDT", rx.id()).unwrap();
    engine
        .bind("gateio.spot.orderbook.NOPE_USDT", rx.id())
        .unwrap();
    engine
        .bind("gateio.spot.orderbook.BTC_USDT", rx.id())
        .unwrap();
    engine.start().unwrap();
    let reg = engine.registry();
    let eth = reg
        .lookup(Venue::Gateio, Market::Spot, b"ETH_USDT")
        .unwrap();
    let nope = reg
        .lookup(Venue::Gateio, Market::Spot, b"NOPE_USDT")
        .unwrap();
    let view = engine.views().remove(0);
    let (mut errors, mut eth_trades_after_refusal) = (Vec::new(), 0u32);
    let end = Instant::now() + LIMIT;
    while Instant::now() < end && eth_trades_after_refusal < 3 {
        let Some(ev) = rx.try_recv() else {
            std::thread::sleep(Duration::from_micros(300));
            continue;
        };
        match ev.body {
            Body::Error {
                code,
                channel,
                message,
                ..
            } => errors.push((
                code,
                channel.as_str().to_string(),
                message.as_str().to_string(),
                ev.header.symbol,
            )),
            Body::Trade { .. } if ev.header.symbol == eth && !errors.is_empty() => {
                eth_trades_after_refusal += 1
            }
            _ => {}
        }
    }
    assert!(
        errors
            .iter()
            .any(|(code, ch, _, sym)| *code == 3 && ch == "spot.trades" && *sym == eth),
        "the transient refusal was not reported: {errors:?}"
    );
    assert!(
        eth_trades_after_refusal >= 3,
        "spot.trades ETH_USDT never retried after its transient refusal: {errors:?}"
    );
    assert!(view.shared.stats.sub_retries.load(Ordering::Relaxed) >= 1);
    // The permanent refusal: give retries and deadlines time to misbehave, then count.
    let quiet = Instant::now() + Duration::from_secs(3);
    while Instant::now() < quiet {
        match rx.try_recv() {
            Some(ev) => {
                if let Body::Error { code, channel, .. } = ev.body {
                    errors.push((
                        code,
                        channel.as_str().to_string(),
                        String::new(),
                        ev.header.symbol,
                    ));
                }
            }
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    let nope_errors: Vec<_> = errors.iter().filter(|e| e.3 == nope).collect();
    assert_eq!(
        nope_errors.len(),
        1,
        "a permanent refusal is reported exactly once: {nope_errors:?}"
    );
    assert_eq!(nope_errors[0].0, 2);
    engine.stop();
    venue.stop();
}

/// Finding 6 (Gate half): `futures.system` notices used to count as decode errors. Now one is
/// recognized and counted (`venue_notices`), reaches the consumer as a `VenueNotice` status,
/// and an `upgrade` notice (the server will soon close the connection) opens a replacement
/// connection, subscribed, before the old one goes (make-before-break).
#[test]
fn issue13_finding6_system_upgrade_notice_is_counted_and_replaces_the_connection() {
    let notice = r#"{"time":1782378978,"time_ms":1782378978107,"channel":"futures.system","event":"update","result":{"type":"upgrade","msg":"The connection will soon be closed for a service upgrade. Please reconnect."}}"#;
    let (srv, log) = acking_server(vec![notice.to_string()]);
    let setup = fake_setup(Venue::Gateio, Market::Futures, &srv.ws_url(), "BTC_USDT");
    let mut engine = engine_for(setup);
    let mut rx = engine.consumer().unwrap();
    engine
        .bind("gateio.futures.orderbook.BTC_USDT", rx.id())
        .unwrap();
    engine.start().unwrap();
    let view = engine.views().remove(0);
    let mut replacing_notice = 0;
    let end = Instant::now() + LIMIT;
    let on_second_conn = || log.lock().unwrap().iter().any(|(n, _)| *n >= 1);
    while Instant::now() < end && (replacing_notice == 0 || !on_second_conn()) {
        match rx.try_recv() {
            Some(ev) => {
                if let Body::Status {
                    kind: StatusKind::VenueNotice,
                    to_ns,
                    ..
                } = ev.body
                {
                    replacing_notice += (to_ns == 1) as u32;
                }
            }
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    let stats = &view.shared.stats;
    assert!(
        stats.venue_notices.load(Ordering::Relaxed) >= 1,
        "notice not counted"
    );
    assert_eq!(
        view.shared.counters.snapshot().decode_errors,
        0,
        "a notice is not a decode error"
    );
    assert!(
        replacing_notice >= 1,
        "no VenueNotice status to the consumer"
    );
    assert!(
        on_second_conn(),
        "no replacement connection subscribed: {:?}",
        log.lock().unwrap()
    );
    assert!(
        view.shared
            .error_texts()
            .iter()
            .any(|t| t.contains("upgrade")),
        "the notice is logged for the operator: {:?}",
        view.shared.error_texts()
    );
    engine.stop();
}

/// Finding 6 (Gate half), against the venue: under the `lifetime` fault every Gate connection
/// is told (`*.system`, `upgrade`) a second before the venue closes it, as Gate announces a
/// shutdown for an upgrade. Before, the notice was a decode error and the close a `ConnDown`
/// with every book back to `Resyncing`; now the feed replaces the connection make-before-break:
/// no `ConnDown`, notices counted, and the final books equal the venue's.
#[test]
fn issue13_finding6_upgrade_notice_hands_the_books_over_without_conn_down() {
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 300,
        scenarios: vec![(Scenario::Lifetime, Target::All)],
        fault_period: Duration::from_millis(2500),
        quiet_after: Some(Duration::from_millis(6000)),
        private_period: Duration::ZERO,
        ..VenueConfig::default()
    })
    .unwrap();
    let rt = Runtime {
        book_depth: 2000,
        ..Runtime::default()
    };
    let feeds: Vec<_> = loopback_feeds(&venue, &rt, WaitMode::Block, false, Duration::from_secs(5))
        .into_iter()
        .filter(|f| f.venue == Venue::Gateio)
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
    for m in ["spot", "futures"] {
        for s in ["BTC_USDT", "ETH_USDT"] {
            engine
                .bind(&format!("gateio.{m}.orderbook.{s}"), rx.id())
                .unwrap();
        }
    }
    engine.start().unwrap();
    let views = engine.views();
    let (mut conn_down, mut notices) = (0, 0);
    let end = Instant::now() + Duration::from_millis(6500);
    while Instant::now() < end {
        match rx.try_recv() {
            Some(ev) => match ev.body {
                Body::Status {
                    kind: StatusKind::ConnDown,
                    ..
                } => conn_down += 1,
                Body::Status {
                    kind: StatusKind::VenueNotice,
                    ..
                } => notices += 1,
                _ => {}
            },
            None => std::thread::sleep(Duration::from_micros(300)),
        }
    }
    let settled = crate::support::pause_and_settle(&venue, &engine, LIMIT);
    for v in &views {
        let c = v.shared.counters.snapshot();
        assert_eq!(
            c.decode_errors, 0,
            "{:?}: a notice is not a decode error",
            v.shared.market
        );
        assert!(
            v.shared.stats.venue_notices.load(Ordering::Relaxed) >= 1,
            "{:?}: no notice counted",
            v.shared.market
        );
        assert!(c.reconnects >= 1, "{:?}: never replaced", v.shared.market);
    }
    // (The venue's own lifetime closes may never happen: the feed closes an announced
    // connection itself once the books are live on its replacement.)
    assert!(notices > 0, "no VenueNotice status reached the consumer");
    assert_eq!(
        conn_down, 0,
        "a connection announced by an upgrade notice went down before its replacement was up"
    );
    assert!(settled, "books did not settle");
    for f in engine.stop() {
        let market = f.market.unwrap();
        for b in &f.books {
            let (seq, vb, va) =
                crate::support::venue_book(&venue, Venue::Gateio, market, &b.symbol).unwrap();
            assert_eq!(b.state, BookState::Live, "{market:?} {} not live", b.symbol);
            assert_eq!(b.seq, seq, "{market:?} {} seq", b.symbol);
            assert_eq!(&b.bids[..10], &vb[..10], "{market:?} {} bids", b.symbol);
            assert_eq!(&b.asks[..10], &va[..10], "{market:?} {} asks", b.symbol);
        }
    }
    venue.stop();
}
