//! Decoders and request builders against the published fixtures (golden), under mutated and
//! random input (bounded proptest fuzz smokes, differential against the reference decoders),
//! and the one decimal module against a reference parser.
//! One binary (fewer link steps); each module was its own test file.

#[path = "../support/mod.rs"]
mod support;

mod gateio_fuzz_smoke;
mod gateio_golden;
mod gateio_requests;
mod mexc_fuzz_smoke;
mod mexc_golden;
mod num_parse;
