#![no_main]
use cexfeed::types::{Px, Qty};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Px::parse_signed(data) {
        // Whatever parses must format canonically and parse back to the same value.
        assert_eq!(Px::parse_signed(p.to_string().as_bytes()), Ok(p));
    }
    let _ = Qty::parse(data);
});
