//! The WebSocket read path (receive buffer + RFC 6455 codec, as the reactor drives them) fed
//! raw server bytes over a loopback TCP pair: never a panic, every invariant in
//! `cexfeed::net::fuzzing` holds, and the messages read do not depend on how the bytes were
//! split across reads. Input: byte 0 = number of chunk sizes k (mod 8), then k little-endian u16
//! chunk sizes, then the server's bytes.
#![no_main]

use cexfeed::net::fuzzing::ws_read_differential;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let k = (k % 8) as usize;
    if rest.len() < 2 * k {
        return;
    }
    let (sizes, bytes) = rest.split_at(2 * k);
    let chunks: Vec<usize> = sizes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]) as usize)
        .collect();
    ws_read_differential(bytes, &chunks);
});
