//! Reliability regressions (issue 12), each test named after the defect: real feed threads
//! against fake loopback servers (or the loopback venue), bounded in time.

use crate::support::loopback_feeds;
use crate::support::net::{serve, ws_accept, Server};
use cexfeed::config::{Runtime, WaitMode};
use cexfeed::engine::FeedSetup;
use cexfeed::engine::{Engine, EngineConfig, FeedExit};
use cexfeed::ring::{Body, StatusKind};
use cexfeed::types::{BookState, Market, Venue};
use cexfeed_venue::{Venue as LoopbackVenue, VenueConfig};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tungstenite::Message;

/// A feed setup pointing at a fake server (nothing else reachable: REST goes nowhere).
pub(crate) fn fake_setup(venue: Venue, market: Market, ws_url: &str, symbol: &str) -> FeedSetup {
    FeedSetup {
        venue,
        market,
        ws_url: ws_url.to_string(),
        private_ws_url: ws_url.to_string(),
        rest_url: "http://127.0.0.1:9".to_string(),
        extra_ca_pem: None,
        credentials: None,
        user_id: None,
        gate_obu: true,
        depth: 50,
        interval: "100ms".to_string(),
        core: None,
        wait: WaitMode::Block,
        framing: Default::default(),
        symbols: vec![(Default::default(), symbol.to_string())],
        book_levels: 1000,
        sync_buffer: 256,
        idle_timeout: Duration::from_secs(5),
        max_message_bytes: 1 << 20,
        so_rcvbuf: 0,
        ping_interval: Duration::from_secs(10),
        resync_timeout: Duration::from_secs(15),
        rotate_after: Duration::from_secs(3600),
        listen_key_keepalive: Duration::from_secs(1800),
    }
}

pub(crate) fn engine_for(setup: FeedSetup) -> Engine {
    Engine::new(EngineConfig {
        feeds: vec![setup],
        ring_capacity: 1024,
        top_n: 10,
        book_pool: 2048,
        control_core: None,
    })
    .unwrap()
}

/// A fake venue: accepts the upgrade, waits for the first subscription, answers it with
/// `frames`, then reads (and ignores) until the client goes or 10 s pass.
fn answering_server(frames: Vec<String>) -> Server {
    serve(None, 4, move |_n, conn| {
        let mut ws = ws_accept(conn);
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            match ws.read() {
                Ok(Message::Text(t)) if t.contains("subscribe") || t.contains("SUBSCRIPTION") => {
                    break
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
        for f in &frames {
            if ws.send(Message::text(f.clone())).is_err() {
                return;
            }
        }
        while Instant::now() < end {
            match ws.read() {
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return,
            }
        }
    })
}

/// Issue 12, defect 1: an error answer whose `id` decodes to a symbol index the feed does not
/// have (500; the feed has one symbol) used to panic in `FeedCore::route_error` and kill the
/// feed thread. Both venues: the bad answer is counted, the good one after it still reaches the
/// consumer as an `Error` event, and the thread is alive several housekeeping ticks later.
#[test]
fn error_ack_with_unknown_symbol_index_does_not_kill_the_feed() {
    let cases = [
        (
            Venue::Gateio,
            "BTC_USDT",
            r#"{"time":1,"id":1000500,"channel":"spot.obu","event":"subscribe","error":{"code":2,"message":"x"},"result":{"status":"fail"}}"#,
            r#"{"time":1,"id":1000000,"channel":"spot.obu","event":"subscribe","error":{"code":2,"message":"refused"},"result":{"status":"fail"}}"#,
        ),
        (
            Venue::Mexc,
            "BTCUSDT",
            r#"{"id":1000500,"code":1,"msg":"x"}"#,
            r#"{"id":1000000,"code":1,"msg":"refused"}"#,
        ),
    ];
    for (venue, symbol, bad, good) in cases {
        let srv = answering_server(vec![bad.to_string(), good.to_string()]);
        let mut engine = engine_for(fake_setup(venue, Market::Spot, &srv.ws_url(), symbol));
        let mut rx = engine.consumer().unwrap();
        engine
            .bind(
                &format!("{}.spot.orderbook.{symbol}", venue.as_str()),
                rx.id(),
            )
            .unwrap();
        engine.start().unwrap();
        let view = engine.views().remove(0);
        let stats = &view.shared.stats;
        let mut error_events = 0;
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end
            && (stats.channel_errors.load(Ordering::Relaxed) < 2 || error_events == 0)
        {
            match rx.try_recv() {
                Some(ev) => error_events += matches!(ev.body, Body::Error { .. }) as u32,
                None => std::thread::sleep(Duration::from_millis(1)),
            }
        }
        assert_eq!(
            stats.channel_errors.load(Ordering::Relaxed),
            2,
            "{venue:?}: both answers counted"
        );
        assert!(
            stats.unknown_symbol.load(Ordering::Relaxed) >= 1,
            "{venue:?}: the unknown index is counted"
        );
        assert_eq!(error_events, 1, "{venue:?}: the good answer is routed");
        // Several 100 ms housekeeping ticks later the thread still runs.
        std::thread::sleep(Duration::from_millis(350));
        assert!(engine.dead_feeds().is_empty(), "{venue:?}");
        assert!(!view.shared.is_dead(), "{venue:?}");
        let finals = engine.stop();
        assert!(
            finals[0].error.is_none(),
            "{venue:?}: {:?}",
            finals[0].error
        );
        drop(srv);
    }
}

/// A loopback venue pushing `rate_per_sec` (no simulated account) and an engine, not started,
/// on its Gate.io spot feed (3 s idle timeout) with rings of `ring_capacity` events.
fn gate_spot_engine(
    rate_per_sec: u32,
    ring_capacity: usize,
    book_pool: usize,
) -> (cexfeed_venue::VenueHandle, Engine) {
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec,
        private_period: Duration::ZERO,
        ..VenueConfig::default()
    })
    .unwrap();
    let rt = Runtime {
        book_depth: 2000,
        ..Runtime::default()
    };
    let feeds: Vec<_> = loopback_feeds(&venue, &rt, WaitMode::Block, false, Duration::from_secs(3))
        .into_iter()
        .filter(|f| f.venue == Venue::Gateio && f.market == Market::Spot)
        .collect();
    let engine = Engine::new(EngineConfig {
        feeds,
        ring_capacity,
        top_n: 10,
        book_pool,
        control_core: None,
    })
    .unwrap();
    (venue, engine)
}

/// Issue 12, defect 1 (second half): a feed thread that dies is impossible to miss. Against the
/// loopback venue, once the Gate spot book is live the thread is made to panic (test hook);
/// the consumer gets a `FeedDown` status (and the book's non-live status), the shared symbol
/// state is no longer `Live`, the engine lists the feed as dead, and its final says `Panicked`.
#[test]
fn dead_feed_thread_is_reported_to_consumers_books_and_engine() {
    let (venue, mut engine) = gate_spot_engine(200, 4096, 8192);
    let mut rx = engine.consumer().unwrap();
    engine
        .bind("gateio.spot.orderbook.BTC_USDT", rx.id())
        .unwrap();
    engine.start().unwrap();
    let view = engine.views().remove(0);
    let live = |v: &cexfeed::engine::FeedView| v.shared.symbols[0].2.state() == BookState::Live;
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end && !live(&view) {
        while rx.try_recv().is_some() {}
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(live(&view), "the book never went live");
    assert!(engine.dead_feeds().is_empty());

    assert!(engine.inject_feed_panic(Venue::Gateio, Market::Spot));
    let (mut feed_down, mut book_not_live) = (0, 0);
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end && feed_down == 0 {
        match rx.try_recv() {
            Some(ev) => {
                if let Body::Status { kind, .. } = ev.body {
                    feed_down += (kind == StatusKind::FeedDown) as u32;
                    book_not_live +=
                        (kind == StatusKind::Book && ev.header.state != BookState::Live) as u32;
                }
            }
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    assert_eq!(feed_down, 1, "FeedDown delivered once");
    assert!(book_not_live >= 1, "the book's non-live state delivered");
    assert!(view.shared.is_dead());
    assert_ne!(view.shared.symbols[0].2.state(), BookState::Live);
    assert_eq!(engine.dead_feeds(), vec![(Venue::Gateio, Market::Spot)]);
    let finals = engine.stop();
    assert!(
        matches!(finals[0].error, Some(FeedExit::Panicked)),
        "{:?}",
        finals[0].error
    );
    assert!(finals[0].books.iter().all(|b| b.state != BookState::Live));
    venue.stop();
}

fn obu(full: bool, first: u64, last: u64, bid: &str) -> String {
    let head = if full {
        format!(r#""full":true,"u":{last}"#)
    } else {
        format!(r#""U":{first},"u":{last}"#)
    };
    format!(
        r#"{{"channel":"spot.obu","result":{{"t":1747054612673,{head},"s":"ob.BTC_USDT.50","b":[["{bid}","1"]],"a":[["200","1"]]}},"time_ms":1747054612848}}"#
    )
}

/// Issue 12, defect 6: an `obu` `full` push with `u = 2^64-1` used to be taken as the book's
/// new sequence, after which every push was "older" and dropped: a frozen book that stayed
/// `live`. Now it is an implausible jump: the book leaves `live`, the stream is resubscribed,
/// and the resubscription's `full` push brings it back at the venue's real sequence.
#[test]
fn obu_full_with_u_at_u64_max_resyncs_instead_of_freezing_a_live_book() {
    let srv = serve(None, 2, |_n, conn| {
        let mut ws = ws_accept(conn);
        let end = Instant::now() + Duration::from_secs(10);
        let mut subs = 0;
        let mut unsubs = 0;
        while Instant::now() < end {
            let t = match ws.read() {
                Ok(Message::Text(t)) => t.to_string(),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(_)) => continue,
                Err(_) => return,
            };
            if !t.contains("spot.obu") {
                continue;
            }
            if t.contains(r#""event":"unsubscribe""#) {
                unsubs += 1;
                // Gate answers an unsubscribe; the feed subscribes again only after that
                // answer (issue 13, finding 2).
                let id = serde_json::from_str::<serde_json::Value>(&t).unwrap()["id"].clone();
                let ack = format!(
                    r#"{{"time":1,"time_ms":1000,"id":{id},"channel":"spot.obu","event":"unsubscribe","payload":["ob.BTC_USDT.50"],"error":null,"result":{{"status":"success"}}}}"#
                );
                if ws.send(Message::text(ack)).is_err() {
                    return;
                }
                continue;
            }
            subs += 1;
            let frames = if subs == 1 {
                vec![obu(true, 0, 100, "100"), obu(true, 0, u64::MAX, "101")]
            } else {
                assert_eq!(unsubs, 1, "resubscribed after an unsubscribe");
                vec![obu(true, 0, 300, "102"), obu(false, 301, 302, "103")]
            };
            for f in frames {
                if ws.send(Message::text(f)).is_err() {
                    return;
                }
            }
        }
    });
    let mut engine = engine_for(fake_setup(
        Venue::Gateio,
        Market::Spot,
        &srv.ws_url(),
        "BTC_USDT",
    ));
    let mut rx = engine.consumer().unwrap();
    engine
        .bind("gateio.spot.orderbook.BTC_USDT", rx.id())
        .unwrap();
    engine.start().unwrap();
    let view = engine.views().remove(0);
    let mut states = Vec::new();
    let mut last_book = (BookState::Resyncing, 0);
    let end = Instant::now() + Duration::from_secs(8);
    while Instant::now() < end && last_book != (BookState::Live, 302) {
        match rx.try_recv() {
            Some(ev) => match ev.body {
                Body::Status {
                    kind: StatusKind::Book,
                    ..
                } => states.push(ev.header.state),
                Body::Book { .. } => last_book = (ev.header.state, ev.header.seq),
                _ => {}
            },
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    assert_eq!(last_book, (BookState::Live, 302), "states seen {states:?}");
    // live (first full) → resyncing (the 2^64-1 push) → live (resubscribed).
    assert_eq!(
        states,
        vec![BookState::Live, BookState::Resyncing, BookState::Live]
    );
    let c = view.shared.counters.snapshot();
    assert_eq!(c.resyncs, 1);
    assert_eq!(view.shared.symbols[0].2.seq.load(Ordering::Relaxed), 302);
    engine.stop();
    drop(srv);
}

/// Review finding 2: `FeedDown` pushed into a full ring was dropped like any event, so a
/// strategy that had been slow never learnt its feed died. Here the consumer reads nothing
/// until its small ring is long full, the feed thread dies, and the drained ring still ends
/// with `FeedDown` (held by the producer, then left to the consumer when the thread ended).
#[test]
fn finding2_feed_down_reaches_a_consumer_whose_ring_was_full() {
    const RING: usize = 16;
    let (venue, mut engine) = gate_spot_engine(500, RING, 256);
    let mut rx = engine.consumer().unwrap();
    for ch in [
        "gateio.spot.orderbook.BTC_USDT",
        "gateio.spot.trades.BTC_USDT",
    ] {
        engine.bind(ch, rx.id()).unwrap();
    }
    engine.start().unwrap();
    let view = engine.views().remove(0);
    // Not reading: wait until far more messages arrived than the ring holds.
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end
        && view.shared.counters.messages.load(Ordering::Relaxed) < 20 * RING as u64
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        view.shared.counters.messages.load(Ordering::Relaxed) >= 20 * RING as u64,
        "the venue never sent enough to fill the ring"
    );
    assert!(engine.inject_feed_panic(Venue::Gateio, Market::Spot));
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end && engine.dead_feeds().is_empty() {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(engine.dead_feeds(), vec![(Venue::Gateio, Market::Spot)]);
    // Drain: the Missed count, the ring's old events, and last the FeedDown.
    let (mut missed, mut feed_down, mut last_was_feed_down) = (0u64, 0, false);
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end && feed_down == 0 {
        match rx.try_recv() {
            Some(ev) => {
                last_was_feed_down = false;
                match ev.body {
                    Body::Missed { count } => missed += count,
                    Body::Status {
                        kind: StatusKind::FeedDown,
                        ..
                    } => {
                        feed_down += 1;
                        last_was_feed_down = true;
                    }
                    _ => {}
                }
            }
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    assert!(
        missed > 0,
        "the ring never overflowed: the test proves nothing"
    );
    assert_eq!(
        feed_down, 1,
        "FeedDown lost in a full ring (missed {missed})"
    );
    assert!(last_was_feed_down);
    assert!(rx.try_recv().is_none(), "nothing comes after FeedDown");
    engine.stop();
    venue.stop();
}
