#![no_main]
//! MEXC push/control decoder: never panics; whenever the prost reference accepts a binary
//! frame, the field walker emits the same events (groups excepted: the walker refuses them).
use cexfeed::event::{BboMsg, BookMsg, DecodeError, Sink, TradeMsg};
use cexfeed::exchange::mexc::MexcDecoder;
use libfuzzer_sys::fuzz_target;

// The prost reference lives with the test support (it is not library code).
#[path = "../../tests/support/mexc/prost_ref.rs"]
mod prost_ref;
use prost_ref::ReferenceDecode;

/// Folds events into a comparable fingerprint without allocating per event.
#[derive(Default, PartialEq, Debug)]
struct Print {
    n: u64,
    h: u64,
}

impl Print {
    fn mix(&mut self, v: u64) {
        self.h = (self.h ^ v).wrapping_mul(0x100_0000_01b3);
    }
}

impl Sink for Print {
    fn book(&mut self, m: &BookMsg<'_>) {
        self.n += 1;
        self.mix(m.seq_first ^ m.seq_last.rotate_left(7));
        for l in m.bids.iter().chain(m.asks) {
            self.mix(l.px.0 as u64);
            self.mix(l.qty.0 as u64);
        }
    }
    fn trade(&mut self, m: &TradeMsg<'_>) {
        self.n += 1;
        self.mix(m.px.0 as u64 ^ m.qty.0 as u64 ^ m.side as u64);
    }
    fn bbo(&mut self, m: &BboMsg<'_>) {
        self.n += 1;
        self.mix(m.bid_px.0 as u64 ^ m.ask_qty.0 as u64 ^ m.seq.unwrap_or(0));
    }
}

fuzz_target!(|data: &[u8]| {
    let mut d = MexcDecoder::new(64);
    let mut a = Print::default();
    let walker = d.decode_binary(data, &mut a);
    let mut b = Print::default();
    let reference = d.decode_binary_reference(data, &mut b);
    if reference.is_ok() && walker != Err(DecodeError::WrongType("group")) {
        assert_eq!(walker, reference);
        assert_eq!(a, b);
    }
    let _ = d.decode_text(data, &mut Print::default());
});
