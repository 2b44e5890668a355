//! Bench hook (not an API): drive a Gate.io feed's real per-message path from a buffer.
//!
//! [`GateBench`] owns what the engine builds for a Gate.io feed thread (`FeedCore` with its
//! synced books and histograms, [`GateFeed`] in a [`Reactor`]) and the consumer end of one
//! ring. [`GateBench::push`] hands one recorded WebSocket payload to the reactor exactly as a
//! replay does ([`Reactor::replay_message`] → `deliver` → `GateFeed::on_message`: decode →
//! sync + book apply → pooled top-N → ring push, with the per-stage histograms), so a bench
//! measures the code the feed thread runs, not a copy of it. Nothing here is on the normal
//! path: the library only gains this module (exported as `cexfeed::bench_hooks`, hidden from
//! the docs) and the feed code is unchanged.
//!
//! No socket is opened: the connection is brought up with [`Reactor::replay_up`] (no DNS,
//! no TLS), and what the feed sends (subscriptions) is counted and dropped, as in a replay.

use std::sync::Arc;

use crossbeam_queue::ArrayQueue;

use super::gateio::GateFeed;
use super::{new_shared, FeedCore};
use crate::book::SyncRule;
use crate::channel::Kind;
use crate::net::{ConnId, ConnSpec, ControlClient, Reactor, ReactorConfig};
use crate::ring::{channel, Body, Consumer, RingConfig};
use crate::types::{now_ns, BookState, Market, SymbolId};

/// What a [`GateBench`] counted so far (to check a buffer ran clean: every push applied).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GateBenchStats {
    /// Messages the feed handled.
    pub messages: u64,
    /// Frames that failed to decode.
    pub decode_errors: u64,
    /// Sequence gaps seen by the book.
    pub gaps: u64,
    /// Resyncs (gaps, crossed books, bad levels).
    pub resyncs: u64,
    /// Book events taken off the ring by [`GateBench::drain`].
    pub books_received: u64,
    /// Events dropped or conflated on the ring (the consumer was not drained in time).
    pub ring_dropped: u64,
}

/// One Gate.io feed handler (spot or futures, `obu` or `order_book_update`) with one symbol
/// bound to one consumer ring. See the module docs.
pub struct GateBench {
    reactor: Reactor<GateFeed>,
    conn: ConnId,
    rx: Consumer,
    symbol: SymbolId,
    books_received: u64,
    digest: u64,
}

impl GateBench {
    /// A feed for `symbol` on `market`; `obu`: `*.obu` (`ob.<symbol>.400`, 100 ms), else
    /// `*.order_book_update` (100 ms, level 100). Everything else is the configuration's
    /// default (book depth, ring capacity, top-N), as the engine would build it.
    pub fn new(market: Market, obu: bool, symbol: &str) -> GateBench {
        Self::with_runtime(market, obu, symbol, "")
    }

    /// As [`GateBench::new`], with `[runtime]` TOML lines (e.g. `ring_capacity = 1024`).
    pub fn with_runtime(market: Market, obu: bool, symbol: &str, runtime: &str) -> GateBench {
        let (m, url, stream) = match (market, obu) {
            (Market::Spot, true) => ("spot", "ws://127.0.0.1:1/ws/v4/", "obu"),
            (Market::Spot, false) => ("spot", "ws://127.0.0.1:1/ws/v4/", "order_book_update"),
            (Market::Futures, true) => ("futures", "ws://127.0.0.1:1/v4/ws/usdt", "obu"),
            (Market::Futures, false) => (
                "futures",
                "ws://127.0.0.1:1/v4/ws/usdt",
                "order_book_update",
            ),
        };
        let depth = if obu { 400 } else { 100 };
        let toml = format!(
            "[[feed]]\nvenue = \"gateio\"\nmarket = \"{m}\"\nsymbols = [\"{symbol}\"]\n\
             ws_url = \"{url}\"\nrest_url = \"http://127.0.0.1:1\"\nbook_channel = \"{stream}\"\n\
             depth = {depth}\ninterval = \"100ms\"\n[runtime]\n{runtime}\n"
        );
        let cfg = crate::config::Config::from_toml(&toml, "bench").expect("bench config");
        let mut resolved = cfg.resolve().expect("bench config resolves");
        let ecfg = &resolved.engine;
        let mut ring_cfg =
            RingConfig::new(ecfg.ring_capacity, ecfg.top_n, crate::engine::MAX_SYMBOLS);
        ring_cfg.pool_size = ecfg.book_pool.max(1);
        let setup = resolved.engine.feeds.remove(0);
        let (rec, _collector) = crate::metrics::new();
        let shared = new_shared(&setup, rec.counters.clone());
        let rule = if obu {
            SyncRule::GateObu
        } else {
            SyncRule::GateUpdate
        };
        let mut core = FeedCore::new(
            &setup,
            rule,
            shared,
            rec.decode,
            rec.book_apply,
            rec.wire_to_ring,
        );
        let (tx, rx) = channel(&ring_cfg);
        core.add_consumer(0, tx);
        let id = setup.symbols[0].0;
        core.apply_binding(Kind::OrderBook, Some(id), 0, true);
        let (control, _inject) = ControlClient::detached(16);
        let commands = Arc::new(ArrayQueue::new(16));
        let feed = GateFeed::new(core, control, commands, setup.clone());
        let rcfg = ReactorConfig {
            max_conns: 8,
            resolver: Arc::new(crate::record::replay::NoResolver),
            ..ReactorConfig::default()
        };
        let mut reactor = Reactor::new(rcfg, feed).expect("reactor");
        let ps = reactor
            .add_spec(ConnSpec::new(setup.ws_url.clone()))
            .expect("spec");
        reactor.handler_mut().set_specs(ps, None);
        let conn = reactor.open(ps).expect("slot");
        // Up as in a replay: `on_open` subscribes the bound book (the request is dropped).
        assert!(reactor.replay_up(conn, now_ns()), "connection up");
        GateBench {
            reactor,
            conn,
            rx,
            symbol: id,
            books_received: 0,
            digest: 0,
        }
    }

    /// One WebSocket text message, through the feed thread's per-message path. The receive
    /// stamp is taken here, as the reactor takes it per read.
    #[inline]
    pub fn push(&mut self, payload: &[u8]) {
        let recv_ns = now_ns();
        self.reactor
            .replay_message(self.conn, true, payload, recv_ns);
    }

    /// Take every event off the consumer ring and release the book slots (the strategy
    /// thread's side). Returns how many book events were taken.
    pub fn drain(&mut self) -> usize {
        let mut n = 0;
        while let Some(ev) = self.rx.try_recv() {
            if let Body::Book { .. } = ev.body {
                if let Some(top) = self.rx.book(&ev) {
                    if let Some(l) = top.bids().first() {
                        self.digest = self.digest.wrapping_add(l.px.0 as u64);
                    }
                }
                self.rx.release(&ev);
                n += 1;
            }
        }
        self.books_received += n as u64;
        n
    }

    /// Start the book over (as a reconnect does): the next push must be a `full` one.
    pub fn reset(&mut self) {
        let now = now_ns();
        self.reactor.handler_mut().core.reset_books(now);
        self.drain();
    }

    /// The book's state.
    pub fn state(&self) -> BookState {
        let core = &self.reactor.handler().core;
        core.syms
            .iter()
            .find(|s| s.id == self.symbol)
            .map(|s| s.book.state())
            .unwrap_or(BookState::Resyncing)
    }

    /// Best bid and ask of the authoritative book (fixed-point units), if both sides exist.
    pub fn best(&self) -> Option<(i128, i128)> {
        let core = &self.reactor.handler().core;
        let b = core.syms.first()?.book.book();
        Some((b.best_bid()?.px.0, b.best_ask()?.px.0))
    }

    /// Levels per side in the authoritative book.
    pub fn book_len(&self) -> (usize, usize) {
        let core = &self.reactor.handler().core;
        core.syms
            .first()
            .map(|s| s.book.book().len())
            .unwrap_or((0, 0))
    }

    /// Counters so far.
    pub fn stats(&self) -> GateBenchStats {
        let core = &self.reactor.handler().core;
        let c = core.counters().snapshot();
        let (dropped, conflated, _) = core.ring_overruns();
        GateBenchStats {
            messages: c.messages,
            decode_errors: c.decode_errors,
            gaps: c.gaps,
            resyncs: c.resyncs,
            books_received: self.books_received,
            ring_dropped: dropped + conflated,
        }
    }

    /// A value that depends on every book taken off the ring (keeps the consumer honest).
    pub fn digest(&self) -> u64 {
        self.digest
    }
}
