//! Network engine: WebSocket framing over the reactor, TLS.
//! One binary (fewer link steps); each module was its own test file.

#[path = "../support/mod.rs"]
mod support;

mod dns;
mod tg_framing;
mod tls;
mod trust;
mod ws;
