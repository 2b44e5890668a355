//! Network engine: WebSocket framing over the reactor, TLS.
//! One binary (fewer link steps); each module was its own test file.

#[path = "../support/mod.rs"]
mod support;

mod dns;
mod tls;
mod trust;
mod tg_framing;
mod ws;
