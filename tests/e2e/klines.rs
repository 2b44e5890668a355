//! Issue 17, end to end: klines bound on all three feeds (MEXC spot, Gate.io spot and futures)
//! against the loopback venue with 1 s windows; every closed candle the strategy receives
//! equals the venue's own candle for that window (open, high, low, close, volumes exactly);
//! the MEXC mini ticker binds and flows.

use crate::support::loopback_feeds;
use cexfeed::config::{Runtime, WaitMode};
use cexfeed::engine::{Engine, EngineConfig};
use cexfeed::ring::{
    Body, FLAG_KLINE_INFERRED, KLINE_BASE_VOLUME, KLINE_QUOTE_VOLUME, TICKER_LAST,
};
use cexfeed::types::{Interval, Market, Px, Qty, Venue};
use cexfeed::ChannelError;
use cexfeed_venue::{Market as VMarket, Venue as LoopbackVenue, VenueConfig, VenueId};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Deadline for the conditions waited on (generous: a loaded 2-core machine meets it).
const LIMIT: Duration = Duration::from_secs(40);

#[derive(Debug, Clone, Copy, PartialEq)]
struct Got {
    open: Px,
    high: Px,
    low: Px,
    close: Px,
    volume: Qty,
    present: u8,
    quote_volume: Qty,
    base_volume: Qty,
}

#[test]
fn issue17_klines_on_three_feeds_equal_the_venues_candles_and_mexc_ticker_flows() {
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 1000,
        kline_window: Some(Duration::from_secs(1)),
        kline_push_period: Duration::from_millis(200),
        ..VenueConfig::default()
    })
    .unwrap();
    let feeds = loopback_feeds(
        &venue,
        &Runtime::default(),
        WaitMode::Block,
        false,
        Duration::from_secs(5),
    );
    let mut engine = Engine::new(EngineConfig {
        feeds,
        ring_capacity: 8192,
        top_n: 5,
        book_pool: 1024,
        control_core: None,
    })
    .unwrap();
    let mut rx = engine.consumer().unwrap();
    // An interval a venue lacks is refused at bind time, naming the accepted ones.
    match engine.bind("mexc.spot.kline.10s.BTCUSDT", rx.id()) {
        Err(e) => {
            let t = e.to_string();
            assert!(t.contains("1m 5m 15m 30m 1h 4h 8h 1d 1w 1M"), "{t}");
        }
        Ok(_) => panic!("10s is not a MEXC interval"),
    }
    assert!(matches!(
        cexfeed::Channel::parse("gateio.spot.kline.1M.BTC_USDT"),
        Err(ChannelError::BadInterval { .. })
    ));
    let chans = [
        (
            "mexc.spot.kline.1m.BTCUSDT",
            Venue::Mexc,
            Market::Spot,
            "BTCUSDT",
        ),
        (
            "gateio.spot.kline.1m.BTC_USDT",
            Venue::Gateio,
            Market::Spot,
            "BTC_USDT",
        ),
        (
            "gateio.futures.kline.1m.BTC_USDT",
            Venue::Gateio,
            Market::Futures,
            "BTC_USDT",
        ),
    ];
    for (ch, ..) in chans {
        engine.bind(ch, rx.id()).unwrap();
    }
    engine.bind("mexc.spot.ticker.BTCUSDT", rx.id()).unwrap();
    engine.start().unwrap();
    let ids: Vec<_> = chans
        .iter()
        .map(|(_, v, m, s)| engine.registry().lookup(*v, *m, s.as_bytes()).unwrap())
        .collect();
    // (feed index, open_time_ms) → the closed candle received.
    let mut closed: BTreeMap<(usize, i64), Got> = BTreeMap::new();
    let (mut open_updates, mut tickers, mut errors) = (0u64, 0u64, Vec::new());
    let deadline = Instant::now() + LIMIT;
    let enough = |c: &BTreeMap<(usize, i64), Got>| {
        (0..3).all(|f| c.keys().filter(|k| k.0 == f).count() >= 3)
    };
    while !(enough(&closed) && tickers > 0) {
        assert!(
            Instant::now() < deadline,
            "closed per feed {:?}, tickers {tickers}, errors {errors:?}",
            (0..3)
                .map(|f| closed.keys().filter(|k| k.0 == f).count())
                .collect::<Vec<_>>()
        );
        let Some(ev) = rx.try_recv() else {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        match ev.body {
            Body::Kline {
                interval,
                closed: is_closed,
                present,
                open_time_ms,
                open,
                high,
                low,
                close,
                volume,
                quote_volume,
                base_volume,
            } => {
                let f = ids
                    .iter()
                    .position(|id| *id == ev.header.symbol)
                    .expect("a bound symbol");
                assert_eq!(interval, Interval::M1);
                assert_eq!(
                    (ev.header.venue, ev.header.market),
                    (chans[f].1, chans[f].2)
                );
                assert!(low <= open && open <= high && low <= close && close <= high);
                assert_eq!(open_time_ms % 1000, 0);
                let g = Got {
                    open,
                    high,
                    low,
                    close,
                    volume,
                    present,
                    quote_volume,
                    base_volume,
                };
                if is_closed {
                    // The venue closes every window itself before the next one starts: no
                    // close is inferred by the feed here.
                    assert_eq!(ev.header.flags & FLAG_KLINE_INFERRED, 0);
                    if let Some(prev) = closed.insert((f, open_time_ms), g) {
                        assert_eq!(prev, g, "a window closed twice, differently");
                    }
                } else {
                    open_updates += 1;
                }
            }
            Body::Ticker { present, last, .. } => {
                assert!(present & TICKER_LAST != 0 && last.0 > 0);
                tickers += 1;
            }
            Body::Error {
                channel, message, ..
            } => errors.push(format!("{} {}", channel.as_str(), message.as_str())),
            _ => {}
        }
    }
    assert!(errors.is_empty(), "{errors:?}");
    assert!(open_updates > 0, "open candles are pushed too");
    // Every closed candle equals the venue's own, carried over as text and read by our parser.
    let p = |s: String| Px::parse(s.as_bytes()).unwrap();
    let q = |s: String| Qty::parse(s.as_bytes()).unwrap();
    let mut compared = 0;
    for ((f, t), g) in &closed {
        let (_, v, m, sym) = chans[*f];
        let (vid, vm, code) = match (v, m) {
            (Venue::Mexc, _) => (VenueId::Mexc, VMarket::Spot, "Min1"),
            (_, Market::Spot) => (VenueId::Gateio, VMarket::Spot, "1m"),
            _ => (VenueId::Gateio, VMarket::Futures, "1m"),
        };
        let own = venue.klines(vid, vm, sym, code);
        let Some(o) = own.iter().find(|o| o.open_ms == *t) else {
            panic!("{sym} {m:?} window {t}: the venue has no such candle");
        };
        assert_eq!(
            (g.open, g.high, g.low, g.close, g.volume),
            (
                p(o.open.to_string()),
                p(o.high.to_string()),
                p(o.low.to_string()),
                p(o.close.to_string()),
                q(o.volume.to_string())
            ),
            "{sym} {m:?} window {t}"
        );
        match m {
            Market::Spot => {
                assert_eq!(g.present, KLINE_QUOTE_VOLUME);
                assert_eq!(g.quote_volume, q(o.quote_volume.to_string()));
            }
            Market::Futures => {
                assert_eq!(g.present, KLINE_BASE_VOLUME);
                assert_eq!(g.base_volume, q(o.base_volume.to_string()));
            }
        }
        compared += 1;
    }
    assert!(compared >= 9, "{compared}");
    let finals = engine.stop();
    assert!(finals.iter().all(|f| f.error.is_none()));
    venue.stop();
}

/// Issue 17: every MEXC interval on twenty symbols — 280 channels with the four other kinds,
/// ten shards of at most 30 (protocols.md §1.1) — is placed, acknowledged and delivers candles
/// of its own interval; no channel is refused. Regression: the feed's connection cap counted 4
/// channels per symbol (8 connections for 20 symbols: `NoShardSlot` for the last shards).
#[test]
fn issue17_mexc_every_interval_on_shards_subscribes_and_delivers() {
    let names: Vec<String> = (0..20).map(|i| format!("S{i}USDT")).collect();
    let syms: Vec<&str> = names.iter().map(String::as_str).collect();
    let venue = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 50,
        mexc_symbols: names.clone(),
        kline_window: Some(Duration::from_secs(1)),
        kline_push_period: Duration::from_millis(200),
        ..VenueConfig::default()
    })
    .unwrap();
    let feeds: Vec<_> = loopback_feeds(
        &venue,
        &Runtime::default(),
        WaitMode::Block,
        false,
        Duration::from_secs(5),
    )
    .into_iter()
    .filter(|f| f.venue == Venue::Mexc)
    .collect();
    let mut engine = Engine::new(EngineConfig {
        feeds,
        ring_capacity: 16_384,
        top_n: 5,
        book_pool: 2048,
        control_core: None,
    })
    .unwrap();
    let mut rx = engine.consumer().unwrap();
    let ivs: Vec<Interval> = Interval::ALL
        .into_iter()
        .filter(|i| i.venue_code(Venue::Mexc).is_some())
        .collect();
    assert_eq!(ivs.len(), 10);
    for s in &syms {
        for k in ["orderbook", "trades", "bbo", "ticker"] {
            engine.bind(&format!("mexc.spot.{k}.{s}"), rx.id()).unwrap();
        }
        for iv in &ivs {
            engine
                .bind(&format!("mexc.spot.kline.{iv}.{s}"), rx.id())
                .unwrap();
        }
    }
    engine.start().unwrap();
    let ids: Vec<_> = syms
        .iter()
        .map(|s| {
            engine
                .registry()
                .lookup(Venue::Mexc, Market::Spot, s.as_bytes())
                .unwrap()
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut errors = Vec::new();
    let deadline = Instant::now() + LIMIT;
    while seen.len() < syms.len() * ivs.len() {
        assert!(
            Instant::now() < deadline,
            "klines seen for {} of {} (symbol, interval); errors {errors:?}",
            seen.len(),
            syms.len() * ivs.len()
        );
        let Some(ev) = rx.try_recv() else {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        match ev.body {
            Body::Kline { interval, .. } => {
                let s = ids.iter().position(|i| *i == ev.header.symbol).unwrap();
                seen.insert((s, interval));
            }
            Body::Error {
                channel, message, ..
            } => errors.push(format!("{} {}", channel.as_str(), message.as_str())),
            _ => {}
        }
    }
    // Every channel acknowledged (subscriptions are paced, so the last acks may still come).
    let acks = || engine.views()[0].shared.stats.acks.load(Ordering::Relaxed);
    while acks() < 280 {
        assert!(
            Instant::now() < deadline,
            "{} acks for 280 channels",
            acks()
        );
        while let Some(ev) = rx.try_recv() {
            if let Body::Error {
                channel, message, ..
            } = ev.body
            {
                errors.push(format!("{} {}", channel.as_str(), message.as_str()));
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(errors.is_empty(), "{errors:?}");
    engine.stop();
    venue.stop();
}
