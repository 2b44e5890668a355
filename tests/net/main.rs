//! Network engine: WebSocket framing over the reactor, TLS.
//! One binary (fewer link steps); each module was its own test file.

#[path = "../support/mod.rs"]
mod support;

mod tls;
mod trust;
mod ws;
