//! The REST answers the reconciler reads (Gate.io and MEXC account endpoints, issue 17), the
//! Gate contract size and MEXC's listen-key and error bodies: never a panic, every decoder
//! deterministic (`cexfeed::exchange::fuzzing::account_rest`). Input: the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cexfeed::exchange::fuzzing::account_rest(data);
});
