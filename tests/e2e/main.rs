//! End to end: the real feed threads against the loopback venue, books compared with the venue's.
//! One binary (fewer link steps); each module was its own test file.

#[path = "../support/mod.rs"]
mod support;

mod bind_errors;
mod gateio;
mod gateio_faults;
mod gateio_lifecycle;
mod issue13_net;
mod klines;
mod matrix;
mod mexc;
mod mexc_lifecycle;
mod numbers;
mod private;
mod private_state;
mod reliability;
mod trust;
