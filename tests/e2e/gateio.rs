//! End to end against the loopback venue: Gate.io spot (obu) and USDT futures
//! (order_book_update + REST) through net → decoder → sync → book → ring → consumer; final books
//! equal the venue's true books at the same sequence.

use crate::support::loopback_feeds;
use cexfeed::config::{Runtime, WaitMode};
use cexfeed::engine::{Engine, EngineConfig};
use cexfeed::ring::Body;
use cexfeed::types::{BookState, Market, Venue};
use cexfeed_venue::{Venue as LoopbackVenue, VenueConfig};
use std::time::{Duration, Instant};

#[test]
fn gateio_books_trades_bbo_match_the_venue() {
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 500,
        ..VenueConfig::default()
    })
    .unwrap();
    let rt = Runtime {
        book_depth: 2000,
        ..Runtime::default()
    };
    // Idle timeout well above the settle below: once the venue pauses, a Gate book stream is
    // silent and would turn its books stale after the timeout, which this test does not test.
    let feeds: Vec<_> =
        loopback_feeds(&venue, &rt, WaitMode::Block, false, Duration::from_secs(60))
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
            for k in ["orderbook", "trades", "bbo"] {
                engine
                    .bind(&format!("gateio.{m}.{k}.{s}"), rx.id())
                    .unwrap();
            }
        }
    }
    engine.start().unwrap();
    let (mut books, mut trades, mut bbos, mut live_books) = (0u64, 0u64, 0u64, 0u64);
    let deadline = Instant::now() + Duration::from_secs(4);
    while Instant::now() < deadline {
        match rx.try_recv() {
            Some(ev) => match ev.body {
                Body::Book { .. } => {
                    books += 1;
                    let top = ev.book().expect("held book");
                    if ev.header.state == BookState::Live {
                        live_books += 1;
                        let (b, a) = (top.bids(), top.asks());
                        assert!(!b.is_empty() && !a.is_empty());
                        assert!(b[0].px < a[0].px, "crossed book handed out");
                    }
                }
                Body::Trade { .. } => trades += 1,
                Body::Bbo { .. } => bbos += 1,
                _ => {}
            },
            None => std::thread::sleep(Duration::from_micros(200)),
        }
    }
    assert!(live_books > 10, "books {books} live {live_books}");
    assert!(trades > 0 && bbos > 0, "trades {trades} bbos {bbos}");
    // Quiesce the market, let the feeds catch up, then compare.
    assert!(
        crate::support::pause_and_settle(&venue, &engine, Duration::from_secs(20)),
        "books not live at the venue's versions 20 s after the pause"
    );
    let finals = engine.stop();
    let mut compared = 0;
    for f in &finals {
        assert!(f.error.is_none(), "{:?}", f.error);
        let market = f.market.unwrap();
        for b in &f.books {
            assert_eq!(b.state, BookState::Live, "{market:?} {}", b.symbol);
            let (seq, vb, va) =
                crate::support::venue_book(&venue, Venue::Gateio, market, &b.symbol).unwrap();
            assert_eq!(b.seq, seq, "{market:?} {} seq", b.symbol);
            assert_eq!(&b.bids[..10], &vb[..10], "{market:?} {} bids", b.symbol);
            assert_eq!(&b.asks[..10], &va[..10], "{market:?} {} asks", b.symbol);
            compared += 1;
        }
    }
    assert_eq!(compared, 4);
    let _ = Market::Spot;
    venue.stop();
}
