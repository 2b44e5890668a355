//! The loopback venue against the published fixtures and the exchanges' rules, faults, TLS, rates.
//! One binary (fewer link steps); each module was its own test file.

#[path = "../support/mod.rs"]
mod support;

mod abuse;
mod faults;
mod gate;
mod klines;
mod mexc;
mod rate;
mod tls;
