//! Review finding 1 (errors of binds made before `Engine::start`): a bind's error must reach
//! its consumer whatever the order of `consumer`, `bind` and `start` — bind-then-start is the
//! normal order.

use crate::support::loopback_feeds;
use cexfeed::config::{Runtime, WaitMode};
use cexfeed::engine::{Engine, StrategyRx};
use cexfeed::ring::Body;
use cexfeed::types::{Market, SymbolId, Venue};
use cexfeed_venue::{Venue as LoopbackVenue, VenueConfig, VenueHandle};
use std::time::{Duration, Instant};

/// Deadline for a condition a test waits for: generous, so a machine busy on every core meets it.
const LIMIT: Duration = Duration::from_secs(30);

fn engine_for(venue: &VenueHandle, v: Venue, m: Market, extra: &str) -> Engine {
    let mut feeds: Vec<_> = loopback_feeds(
        venue,
        &Runtime::default(),
        WaitMode::Block,
        false,
        Duration::from_secs(5),
    )
    .into_iter()
    .filter(|f| f.venue == v && f.market == m)
    .collect();
    for f in &mut feeds {
        f.symbols.push((Default::default(), extra.to_string()));
    }
    crate::private::engine(feeds)
}

/// Drains `rx` until an error event about `sym` arrives — its header's symbol, or its channel
/// or message naming it (the record's inline texts are truncated) — or `LIMIT` passes; returns
/// every error seen.
fn error_naming(
    rx: &mut StrategyRx,
    sym: Option<SymbolId>,
    needle: &str,
) -> (bool, Vec<(i64, String, String)>) {
    let mut errors = Vec::new();
    let end = Instant::now() + LIMIT;
    while Instant::now() < end {
        let Some(ev) = rx.try_recv() else {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        if let Body::Error {
            code,
            channel,
            message,
        } = ev.body
        {
            let (c, m) = (channel.as_str().to_string(), message.as_str().to_string());
            let hit = Some(ev.header.symbol) == sym || c.contains(needle) || m.contains(needle);
            errors.push((code, c, m));
            if hit {
                return (true, errors);
            }
        }
    }
    (false, errors)
}

fn bind_before_start_error_reaches_consumer(v: Venue, m: Market, sym: &str, channel: &str) {
    let venue = LoopbackVenue::start(VenueConfig::default()).unwrap();
    let mut engine = engine_for(&venue, v, m, sym);
    let mut rx = engine.consumer().unwrap();
    engine.bind(channel, rx.id()).unwrap();
    engine.start().unwrap();
    let id = engine.registry().lookup(v, m, sym.as_bytes());
    assert!(id.is_some());
    let (hit, errors) = error_naming(&mut rx, id, sym);
    engine.stop();
    venue.stop();
    assert!(
        hit,
        "the refusal of {channel} never reached its consumer: {errors:?}"
    );
}

#[test]
fn finding1_bind_error_before_start_reaches_consumer_mexc() {
    bind_before_start_error_reaches_consumer(
        Venue::Mexc,
        Market::Spot,
        "NOPEUSDT",
        "mexc.spot.trades.NOPEUSDT",
    );
}

#[test]
fn finding1_bind_error_before_start_reaches_consumer_gate_futures() {
    bind_before_start_error_reaches_consumer(
        Venue::Gateio,
        Market::Futures,
        "NOPE_USDT",
        "gateio.futures.trades.NOPE_USDT",
    );
}

/// The error a feed raises while it applies the bind itself (before anything reached the
/// venue) was lost when the bind came before `start`: the engine queued the consumer's ring
/// behind the binds, so the feed routed the refusal to a consumer it did not have yet. Here
/// MEXC runs out of connection slots for its public shards (more channels than 64 connections
/// of 30 carry) and refuses the last channels with `NoShardSlot`; nothing needs to answer (the
/// venue address refuses connections).
#[test]
fn finding1_feed_refusal_of_bind_before_start_reaches_consumer() {
    const SYMS: usize = 500;
    let mut setup =
        crate::reliability::fake_setup(Venue::Mexc, Market::Spot, "ws://127.0.0.1:9/ws", "S0USDT");
    setup.wait = WaitMode::Block;
    for i in 1..SYMS {
        setup
            .symbols
            .push((Default::default(), format!("S{i}USDT")));
    }
    let mut engine = crate::private::engine(vec![setup]);
    let mut rx = engine.consumer().unwrap();
    for i in 0..SYMS {
        for kind in ["orderbook", "trades", "bbo", "ticker"] {
            engine
                .bind(&format!("mexc.spot.{kind}.S{i}USDT"), rx.id())
                .unwrap();
        }
    }
    engine.start().unwrap();
    let (hit, errors) = error_naming(&mut rx, None, "connection slot");
    engine.stop();
    assert!(
        hit,
        "the NoShardSlot refusal never reached the consumer: {errors:?}"
    );
}
