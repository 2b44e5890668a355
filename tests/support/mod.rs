//! Shared test support (as mio's `tests/util`): each integration test binary includes it with
//! `mod support;` (or `#[path = "../support/mod.rs"] mod support;` from a folder) and uses what it
//! needs: the counting allocator (`alloc`), TLS and WebSocket test servers (`net`), venue
//! clients (`venue`), the loopback feeds and the venue's true books.
#![allow(dead_code, unused_imports)]

pub mod alloc;
pub mod events;
pub mod gateio;
pub mod mexc;

pub mod net;
pub mod venue;

/// Feed setups pointing at an in-process loopback venue, and the venue's true books in the
/// client's types: the same code the demo runs (`tools/cli/src/demo.rs`).
#[path = "../../tools/cli/src/demo.rs"]
pub mod demo;

pub use demo::{loopback_config, venue_book};

use cexfeed::config::{Runtime, WaitMode};
use cexfeed::engine::FeedSetup;
use cexfeed_venue::VenueHandle;
use std::time::Duration;

/// The loopback feeds resolved, with `runtime`'s sizes, the given wait strategy and idle
/// timeout: for tests that adjust a feed before starting an engine.
pub fn loopback_feeds(
    v: &VenueHandle,
    runtime: &Runtime,
    wait: WaitMode,
    private: bool,
    idle_timeout: Duration,
) -> Vec<FeedSetup> {
    let mut cfg = loopback_config(v, private);
    cfg.runtime = Runtime {
        wait,
        idle_timeout_ms: idle_timeout.as_millis() as u64,
        ..runtime.clone()
    };
    match cfg.resolve() {
        Ok(r) => r.engine.feeds,
        Err(e) => panic!("the loopback configuration is refused: {e}"),
    }
}

/// The channels the fan-out set-up publishes: books and trades of both spot feeds.
pub const SPOT_FANOUT_CHANNELS: [&str; 4] = [
    "gateio.spot.orderbook.BTC_USDT",
    "gateio.spot.trades.BTC_USDT",
    "mexc.spot.orderbook.BTCUSDT",
    "mexc.spot.trades.BTCUSDT",
];

/// The IPC fan-out set-up (`tests/no_alloc_ipc.rs`, `benches/ipc.rs`): a loopback venue
/// pushing `rate_per_sec` book changes per symbol (no simulated account) and an engine, not
/// started, on its two spot feeds with rings sized for fan-out (16 Ki events, top 20 levels).
/// Bind [`SPOT_FANOUT_CHANNELS`] (a `PublishPlan`, a local consumer) before starting it.
pub fn spot_fanout_engine(rate_per_sec: u32) -> (VenueHandle, cexfeed::engine::Engine) {
    use cexfeed::engine::{Engine, EngineConfig};
    let v = cexfeed_venue::Venue::start(cexfeed_venue::VenueConfig {
        rate_per_sec,
        private_period: Duration::ZERO,
        ..cexfeed_venue::VenueConfig::default()
    })
    .unwrap();
    let feeds: Vec<_> = loopback_feeds(
        &v,
        &Runtime::default(),
        WaitMode::Block,
        false,
        Duration::from_secs(5),
    )
    .into_iter()
    .filter(|f| f.market == cexfeed::types::Market::Spot)
    .collect();
    let e = Engine::new(EngineConfig {
        feeds,
        ring_capacity: 1 << 14,
        top_n: 20,
        book_pool: (1 << 14) + 512,
        control_core: None,
    })
    .unwrap();
    (v, e)
}

/// Quiesce the venue and let the books catch up, by conditions with a generous deadline
/// (`limit` each) instead of fixed sleeps, which a machine busy on every core can outlast:
/// waits until every book of every feed of `engine` is `Live` (a book still resyncing when the
/// market stops may never bridge its snapshot), pauses the venue, then waits until every book
/// is `Live` at the venue's frozen version. Returns whether they settled; the caller's
/// comparison of the final books still decides.
pub fn pause_and_settle(
    venue: &VenueHandle,
    engine: &cexfeed::engine::Engine,
    limit: Duration,
) -> bool {
    use cexfeed::types::BookState;
    use std::sync::atomic::Ordering;
    let books = |at_venue: bool| {
        engine.views().iter().all(|v| {
            let sh = &v.shared;
            sh.symbols.iter().all(|(_, name, st)| {
                st.state() == BookState::Live
                    && (!at_venue
                        || venue_book(venue, sh.venue, sh.market, name)
                            .is_none_or(|(seq, _, _)| st.seq.load(Ordering::Relaxed) == seq))
            })
        })
    };
    let wait = |at_venue: bool| {
        let deadline = std::time::Instant::now() + limit;
        while !books(at_venue) {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    };
    let live = wait(false);
    venue.pause(true);
    live && wait(true)
}

/// Every level of a top-N book handed out as `Live` is valid: bids strictly falling, asks
/// strictly rising, sizes positive, best bid below best ask. `Err` says what is wrong.
pub fn valid_book(top: &cexfeed::ring::TopBook) -> Result<(), String> {
    let (b, a) = (top.bids(), top.asks());
    if let Some(w) = b.windows(2).find(|w| w[0].px <= w[1].px) {
        return Err(format!("bids not strictly falling: {:?}", w));
    }
    if let Some(w) = a.windows(2).find(|w| w[0].px >= w[1].px) {
        return Err(format!("asks not strictly rising: {:?}", w));
    }
    if let Some(l) = b
        .iter()
        .chain(a)
        .find(|l| l.qty <= cexfeed::types::Qty::ZERO)
    {
        return Err(format!("non-positive size {l:?}"));
    }
    if let (Some(bb), Some(ba)) = (b.first(), a.first()) {
        if bb.px >= ba.px {
            return Err(format!("crossed: bid {bb:?} ask {ba:?}"));
        }
    }
    Ok(())
}
