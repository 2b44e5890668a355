//! Gate.io decoder under libFuzzer: no panic on any input, and whenever the schema scanner
//! takes a frame, the simd-json path accepts it and emits the same messages.
#![no_main]

use cexfeed::event::*;
use cexfeed::exchange::gateio::GateDecoder;
use cexfeed::types::Market;
use libfuzzer_sys::fuzz_target;

/// Records a compact text trace of every message (allocation is fine in a fuzz harness).
#[derive(Default)]
struct Trace(Vec<String>);

impl Sink for Trace {
    fn book(&mut self, m: &BookMsg<'_>) {
        self.0.push(format!("{m:?}"));
    }
    fn trade(&mut self, m: &TradeMsg<'_>) {
        self.0.push(format!("{m:?}"));
    }
    fn bbo(&mut self, m: &BboMsg<'_>) {
        self.0.push(format!("{m:?}"));
    }
    fn ticker(&mut self, m: &TickerMsg<'_>) {
        self.0.push(format!("{m:?}"));
    }
    fn order(&mut self, m: &OrderMsg<'_>) {
        self.0.push(format!("{m:?}"));
    }
    fn fill(&mut self, m: &FillMsg<'_>) {
        self.0.push(format!("{m:?}"));
    }
    fn balance(&mut self, m: &BalanceMsg<'_>) {
        self.0.push(format!("{m:?}"));
    }
    fn position(&mut self, m: &PositionMsg<'_>) {
        self.0.push(format!("{m:?}"));
    }
    fn control(&mut self, m: &ControlMsg<'_>) {
        self.0.push(format!("{m:?}"));
    }
}

thread_local! {
    // One decoder per market, reused across inputs (as in production: scratch state carried
    // from frame to frame must not change results).
    static DECODERS: std::cell::RefCell<[GateDecoder; 2]> = std::cell::RefCell::new([
        GateDecoder::new(Market::Spot, 64),
        GateDecoder::new(Market::Futures, 64),
    ]);
}

fuzz_target!(|data: &[u8]| {
    let k = data.first().map_or(0, |b| (b & 1) as usize);
    DECODERS.with(|d| check(&mut d.borrow_mut()[k], data));
    let _ = cexfeed::exchange::gateio::decode_rest_snapshot(data, "X", 64, &mut Trace::default());
});

fn check(d: &mut GateDecoder, data: &[u8]) {
    let mut scan = Trace::default();
    let took = d.decode_scan_only(data, &mut scan);
    let mut general = Trace::default();
    let r = d.decode_general(data, &mut general);
    if took {
        assert_eq!(r, Ok(()));
        assert_eq!(scan.0, general.0);
    } else {
        assert!(scan.0.is_empty());
    }
}
