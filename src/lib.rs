//! # cexfeed
//!
//! Market-data and private-stream feed handler for MEXC spot (protobuf) and Gate.io v4 spot and
//! USDT futures (JSON), built to be linked into latency-critical processes.
//!
//! Data path, left to right (one pinned feed thread per exchange connection set):
//!
//! ```text
//!  socket ─► TLS ─► WebSocket frame ─► venue decoder ─► book sync ─► book ─► ring ─► strategy
//!   net/      net/     net/             exchange/<venue>  book/sync   book/   ring/
//!                                                                 metrics/ watches every stage
//! ```
//!
//! Nothing on that path allocates, locks, logs or formats in steady state (`tests/no_alloc.rs`).
//! See `ARCHITECTURE.md` for the threads, memory bounds, error → action table and invariants.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod book;
pub mod channel;
pub mod config;
pub mod engine;
pub mod event;
pub mod exchange;
pub mod feed;
pub mod metrics;
pub mod net;
pub mod num;
pub mod ring;
pub mod secret;
pub mod types;
