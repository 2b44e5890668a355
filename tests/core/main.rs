//! Core data path: book sync (deterministic and on a lossy simulated link), the SPSC ring and book pool, metrics.
//! One binary (fewer link steps); each module was its own test file.

#[path = "../support/mod.rs"]
mod support;

mod metrics;
mod ring;
mod sync;
mod sync_sim;
