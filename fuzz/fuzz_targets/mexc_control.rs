//! MEXC JSON control frames (acks, PONG, refusals, errors): the allocation-free scanner never
//! panics and agrees with serde_json on `id`, `code` and the unescaped `msg` of every frame
//! serde_json reads as a control object (oracle shared with the stable smoke test).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/mexc/control_oracle.rs"]
mod control_oracle;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = control_oracle::check_control(data) {
        panic!("{e}: {}", String::from_utf8_lossy(data));
    }
});
