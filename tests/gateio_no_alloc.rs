//! The Gate.io decoder allocates nothing per message after warm-up, on the scanner path and on
//! the simd-json path, for every fixture frame (errors included). This file installs its own
//! counting global allocator (tests/support/alloc.rs; each integration test is its own binary).

mod support;
use support::alloc::{arm_global, take_global};

use cexfeed::event::*;
use cexfeed::exchange::gateio::GateDecoder;
use cexfeed::types::Market;

#[global_allocator]
static GLOBAL: support::alloc::Counting = support::alloc::Counting;

/// Touches every field so nothing is optimised away; allocates nothing.
#[derive(Default)]
struct Sum(u64, u64);

impl Sink for Sum {
    fn book(&mut self, m: &BookMsg<'_>) {
        self.0 = self.0.wrapping_add(
            m.seq_last + m.bids.len() as u64 + m.asks.len() as u64 + m.symbol.len() as u64,
        );
        for l in m.bids.iter().chain(m.asks) {
            self.0 = self.0.wrapping_add(l.px.0 as u64 ^ l.qty.0 as u64);
        }
    }
    fn trade(&mut self, m: &TradeMsg<'_>) {
        self.0 = self.0.wrapping_add(m.px.0 as u64 ^ m.qty.0 as u64);
    }
    fn bbo(&mut self, m: &BboMsg<'_>) {
        self.0 = self.0.wrapping_add(m.bid_px.0 as u64 ^ m.ask_qty.0 as u64);
    }
    fn ticker(&mut self, m: &TickerMsg<'_>) {
        self.0 = self.0.wrapping_add(m.last.map_or(0, |p| p.0 as u64));
    }
    fn order(&mut self, m: &OrderMsg<'_>) {
        self.0 = self.0.wrapping_add(m.px.0 as u64 ^ m.filled.0 as u64);
    }
    fn fill(&mut self, m: &FillMsg<'_>) {
        self.0 = self.0.wrapping_add(m.fee.mantissa() as u64);
    }
    fn balance(&mut self, m: &BalanceMsg<'_>) {
        self.0 = self.0.wrapping_add(m.available.mantissa() as u64);
    }
    fn position(&mut self, m: &PositionMsg<'_>) {
        self.0 = self.0.wrapping_add(m.size.0 as u64);
    }
    fn kline(&mut self, m: &KlineMsg<'_>) {
        // Issue 17: candles go through the same no-allocation decode.
        self.1 += 1;
        self.0 = self.0.wrapping_add(
            m.open.0 as u64 ^ m.close.0 as u64 ^ m.volume.0 as u64 ^ m.open_time_ms as u64,
        );
    }
    fn control(&mut self, m: &ControlMsg<'_>) {
        self.0 = self.0.wrapping_add(m.code.unwrap_or(1) as u64);
    }
}

#[test]
fn decode_allocates_nothing_after_warm_up() {
    let frames: Vec<Vec<u8>> = support::gateio::fixture_names()
        .iter()
        .flat_map(|n| support::gateio::frames(n))
        .collect();
    let mut decs = [
        GateDecoder::new(Market::Spot, 400),
        GateDecoder::new(Market::Futures, 400),
    ];
    let mut sink = Sum::default();
    let run = |decs: &mut [GateDecoder; 2], sink: &mut Sum| {
        let mut errors = 0usize;
        for f in &frames {
            for d in decs.iter_mut() {
                errors += d.decode(f, sink).is_err() as usize;
                errors += d.decode_general(f, sink).is_err() as usize;
            }
        }
        errors
    };
    let warm_errors = run(&mut decs, &mut sink);
    arm_global(true);
    let mut errors = 0;
    for _ in 0..200 {
        errors += run(&mut decs, &mut sink);
    }
    arm_global(false);
    let n = take_global();
    assert_eq!(
        n,
        0,
        "{n} allocations over {} decodes",
        frames.len() * 4 * 200
    );
    assert_eq!(errors, warm_errors * 200, "same outcome every round");
    assert!(sink.0 != 0);
    // Issue 17: the spot and futures candlestick frames were decoded every round.
    assert!(sink.1 >= 200 * 2, "{} klines", sink.1);
    // The counter itself works.
    arm_global(true);
    let v: Vec<u8> = std::hint::black_box(Vec::with_capacity(16));
    arm_global(false);
    drop(v);
    assert_eq!(take_global(), 1);
}
