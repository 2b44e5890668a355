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
