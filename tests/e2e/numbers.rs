//! Issue 13, finding 3: exact numbers for every market. The venue's sub-nano memecoin
//! (`BABYDOGE…`, see `SymSpec::memecoin`) quotes 13-decimal prices and rests spot levels of
//! 1.5 × 10¹¹ units and more with 10 decimals (22 significant digits). With the old 10-decimal
//! `Px` / 8-decimal `i64` `Qty` every such frame was a decode error and every book a resync loop
//! failing the same way; now each book goes live on MEXC spot, Gate spot and Gate futures and
//! equals the venue's.

use crate::support::{loopback_config, pause_and_settle, venue_book};
use cexfeed::config::WaitMode;
use cexfeed::engine::{Engine, EngineConfig};
use cexfeed::ring::Body;
use cexfeed::types::{BookState, Market, Px, Qty, Venue};
use cexfeed_venue::{Venue as LoopbackVenue, VenueConfig};
use std::time::{Duration, Instant};

/// Fractional digits `v` needs at the 16-decimal scale (0 for a whole number).
fn decimals(units: i128) -> u32 {
    let mut u = units.unsigned_abs();
    let mut d = 16;
    while d > 0 && u % 10 == 0 {
        u /= 10;
        d -= 1;
    }
    d
}

#[test]
fn issue13_finding3_memecoin_books_with_wide_numbers_go_live_and_equal_the_venue() {
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 300,
        mexc_symbols: vec!["BABYDOGEUSDT".into()],
        gate_spot_symbols: vec!["BABYDOGE_USDT".into()],
        gate_futures_symbols: vec!["BABYDOGE_USDT".into()],
        ..VenueConfig::default()
    })
    .unwrap();
    // The venue really sends what the old types refused.
    for (v, m, s) in [
        (
            cexfeed_venue::VenueId::Mexc,
            cexfeed_venue::Market::Spot,
            "BABYDOGEUSDT",
        ),
        (
            cexfeed_venue::VenueId::Gateio,
            cexfeed_venue::Market::Spot,
            "BABYDOGE_USDT",
        ),
    ] {
        let (_, bids, asks) = venue.true_book(v, m, s).unwrap();
        let all: Vec<_> = bids.iter().chain(&asks).collect();
        assert!(all
            .iter()
            .all(|l| l.qty.0 >= 150_000_000_000 * cexfeed_venue::Qty::SCALE));
        assert!(
            all.iter().any(|l| decimals(l.qty.0) == 10),
            "{s}: a 10-decimal size"
        );
        assert!(
            all.iter().any(|l| decimals(l.px.0) == 13),
            "{s}: a 13-decimal price"
        );
    }
    let mut cfg = loopback_config(&venue, false);
    for f in &mut cfg.feeds {
        f.symbols = vec![if f.venue == "mexc" {
            "BABYDOGEUSDT".into()
        } else {
            "BABYDOGE_USDT".into()
        }];
    }
    cfg.runtime.wait = WaitMode::Block;
    cfg.runtime.idle_timeout_ms = 5_000;
    let feeds = cfg.resolve().expect("config").engine.feeds;
    let mut engine = Engine::new(EngineConfig {
        feeds,
        ring_capacity: 4096,
        top_n: 10,
        book_pool: 8192,
        control_core: None,
    })
    .unwrap();
    let mut rx = engine.consumer().unwrap();
    for ch in [
        "mexc.spot.orderbook.BABYDOGEUSDT",
        "gateio.spot.orderbook.BABYDOGE_USDT",
        "gateio.futures.orderbook.BABYDOGE_USDT",
    ] {
        engine.bind(ch, rx.id()).unwrap();
    }
    engine.start().unwrap();
    // Every book goes live (generous deadline: a loaded 2-core machine).
    let mut live = [false; 3];
    let deadline = Instant::now() + Duration::from_secs(30);
    while live.iter().any(|l| !l) && Instant::now() < deadline {
        match rx.try_recv() {
            Some(ev) => {
                if let Body::Book { .. } = ev.body {
                    let top = ev.book().expect("held book");
                    if ev.header.state == BookState::Live {
                        let i = match (ev.header.venue, ev.header.market) {
                            (Venue::Mexc, _) => 0,
                            (Venue::Gateio, Market::Spot) => 1,
                            (Venue::Gateio, Market::Futures) => 2,
                        };
                        live[i] = true;
                        let (b, a) = (top.bids(), top.asks());
                        assert!(!b.is_empty() && !a.is_empty());
                        assert!(b[0].px < a[0].px, "crossed book handed out");
                        assert!(b[0].px < Px::parse(b"0.00000001").unwrap());
                        if ev.header.market == Market::Spot {
                            // Trades eat into levels; the resting ones stay above 1.5e11.
                            let big = Qty::from_int(150_000_000_000);
                            assert!(b.iter().chain(a).any(|l| l.qty >= big));
                        }
                    }
                }
            }
            None => std::thread::sleep(Duration::from_micros(200)),
        }
    }
    assert_eq!(live, [true; 3], "mexc spot, gate spot, gate futures live");
    pause_and_settle(&venue, &engine, Duration::from_secs(30));
    let finals = engine.stop();
    let mut compared = 0;
    for f in &finals {
        assert!(f.error.is_none(), "{:?}", f.error);
        let market = f.market.unwrap();
        for b in &f.books {
            assert_eq!(b.state, BookState::Live, "{market:?} {}", b.symbol);
            let (seq, vb, va) = venue_book(&venue, f.venue.unwrap(), market, &b.symbol).unwrap();
            assert_eq!(b.seq, seq, "{market:?} {} seq", b.symbol);
            assert_eq!(&b.bids[..10], &vb[..10], "{market:?} {} bids", b.symbol);
            assert_eq!(&b.asks[..10], &va[..10], "{market:?} {} asks", b.symbol);
            compared += 1;
        }
    }
    assert_eq!(compared, 3);
    venue.stop();
}
