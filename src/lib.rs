//! # cexfeed
//!
//! Market-data and private-stream feed handler for MEXC spot (protobuf) and Gate.io v4 spot and
//! USDT futures (JSON), built to be linked into latency-critical processes.
//!
//! ```no_run
//! use cexfeed::{Body, Config, Engine};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cfg = Config::load("cexfeed.example.toml".as_ref())?; // or Config::from_toml, or in code
//! let resolved = cfg.resolve()?; // endpoints, keys from the environment, every default
//! let mut engine = Engine::new(resolved.engine)?;
//! let mut rx = engine.consumer()?;
//! engine.bind("gateio.spot.orderbook.BTC_USDT", rx.id())?; // <venue>.<market>.<kind>[.<SYMBOL>]
//! engine.bind("mexc.spot.trades.BTCUSDT", rx.id())?;
//! engine.start()?; // one pinned feed thread per venue + market
//!
//! // On the strategy thread (pin it; `try_recv` never blocks):
//! loop {
//!     let Some(ev) = rx.try_recv() else { continue };
//!     match ev.body {
//!         Body::Book { .. } => {
//!             let top = ev.book().expect("a Book event carries its top-N levels");
//!             let _best_bid = top.bids().first();
//!         }
//!         Body::Trade { px, qty, side, .. } => { let _ = (px, qty, side); }
//!         _ => {}
//!     }
//! } // dropping `ev` hands a book's pooled slot back to its feed
//! # }
//! ```
//!
//! ## The contract
//!
//! - **What is allocated, and when.** Everything at [`Engine::new`] / [`Engine::start`] /
//!   [`Engine::consumer`], sized from the [`Config`]: connection buffers, decoder scratch, one
//!   authoritative book per symbol (`runtime.book_depth` levels a side), one SPSC ring of
//!   `runtime.ring_capacity` 192-byte [`Event`]s per feed and consumer, and a pool of
//!   `runtime.book_pool` [`TopBook`] slots behind it. After start the data path (socket → TLS →
//!   WebSocket frame → decoder → book → ring → [`StrategyRx::try_recv`]) allocates nothing,
//!   takes no lock and formats nothing (`tests/no_alloc*.rs` count it).
//! - **Ring full.** The feed thread never waits for a consumer: book updates are conflated per
//!   symbol (latest wins), other events are dropped and counted, and the consumer's next
//!   `try_recv` says how many it missed ([`Body::Missed`]).
//! - **Ring empty.** `try_recv` returns `None` at once; [`StrategyRx::recv_timeout`] (for
//!   shared cores) polls briefly, then parks the strategy thread on a futex that the feed
//!   thread rings when it pushes (a `FUTEX_WAKE` system call on the feed thread only while the
//!   strategy sleeps; no allocation, no lock on either side).
//! - **Statuses are never lost.** A feed or connection status meeting a full ring is held and
//!   delivered first once there is room, or after the ring's last event if the feed died.
//! - **Books.** A book is handed out only when it is in sync with the venue (snapshot bridged,
//!   no gap since); its [`BookState`] travels with every event, and `Resyncing` / `Stale`
//!   books say so instead of being wrong. Prices and sizes are exact fixed-point integers
//!   ([`Px`], [`Qty`]) parsed from the venue's decimal text, never through `f64`.
//! - **Own orders, fills, balances, positions** (private feeds) are complete: the state at
//!   start-up arrives first (events flagged `FLAG_SNAPSHOT`, then a
//!   `StatusKind::PrivateSnapshot`), the stream on top; after any private-stream gap what it
//!   missed arrives flagged `FLAG_RECONCILED`, de-duplicated, then `PrivateGapClosed`. The
//!   signed REST behind it runs on a reconciler thread per private feed, never the feed thread.
//! - **Errors.** Bad input is counted and skipped, a gap resyncs one symbol, a dead connection
//!   reconnects; consumers learn of each through status and error events. Set-up errors are
//!   typed ([`ConfigError`], [`EngineError`], [`ChannelError`]) and name the key or the part
//!   that is wrong.
//! - **Secrets** ([`Secret`]) are never printed, logged or put in an error.
//!
//! ## Modules
//!
//! The data path, left to right (one pinned feed thread per exchange connection set):
//!
//! ```text
//!  socket ─► TLS ─► WebSocket frame ─► venue decoder ─► book sync ─► book ─► ring ─► strategy
//!   net        net     net               exchange          book        book    ring   engine::StrategyRx
//!                                                                 metrics watches every stage
//! ```
//!
//! What a strategy uses is re-exported here. The modules below are the building blocks: the
//! decoders of [`exchange`] work on their own (offline decoding, replay), [`book`] keeps a book
//! in sync from any snapshot + delta source. `net`, `feed` and the ring's producer side are the
//! engine's internals and are documented in `ARCHITECTURE.md`, not here.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs, unreachable_pub)]

pub mod book;
pub mod channel;
pub mod config;
pub mod engine;
pub mod event;
pub mod exchange;
pub(crate) mod feed;
/// Bench hooks (not an API; may change without notice): drive a feed's real per-message path
/// from a buffer (`benches/gateio.rs`).
#[doc(hidden)]
pub mod bench_hooks {
    pub use crate::feed::bench::{GateBench, GateBenchStats};
}
#[cfg(feature = "ipc")]
pub mod ipc;
pub mod metrics;
pub mod net;
pub mod num;
pub mod record;
pub mod ring;
pub mod secret;
pub mod types;

pub use channel::{Channel, ChannelError, Kind};
pub use config::{Config, ConfigError, FeedConfig, Resolved, Runtime, WaitMode};
pub use engine::{ConsumerId, Engine, EngineConfig, EngineError, Received, StrategyRx};
pub use ring::{Body, Event, Header, StatusKind, TopBook};
pub use secret::{Credentials, Secret};
pub use types::{BookState, Dec, Market, Px, Qty, Side, SymbolId, Venue};
