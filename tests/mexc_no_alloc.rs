//! The MEXC decoder allocates nothing per message: a counting global allocator (this test
//! binary only) armed on this thread after warm-up while thousands of frames — every real
//! capture, every prost-encoded body, control frames (escaped text included) — are decoded.

mod support;
use support::alloc;

use cexfeed::event::*;
use cexfeed::exchange::mexc::MexcDecoder;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// Sums what it sees so nothing is optimised away; allocates nothing.
#[derive(Default)]
struct Fold {
    n: u64,
    acc: i128,
    klines: u64,
}

impl Sink for Fold {
    fn book(&mut self, m: &BookMsg<'_>) {
        self.n += 1;
        for l in m.bids.iter().chain(m.asks) {
            self.acc = self.acc.wrapping_add(l.px.0 ^ l.qty.0);
        }
        self.acc = self
            .acc
            .wrapping_add(m.seq_last as i128 + m.symbol.len() as i128);
    }
    fn trade(&mut self, m: &TradeMsg<'_>) {
        self.n += 1;
        self.acc = self.acc.wrapping_add(m.px.0 + m.qty.0);
        if let IdRef::Str(s) = m.trade_id {
            self.acc += s.len() as i128;
        }
    }
    fn bbo(&mut self, m: &BboMsg<'_>) {
        self.n += 1;
        self.acc = self.acc.wrapping_add(m.bid_px.0 + m.ask_qty.0);
    }
    fn ticker(&mut self, m: &TickerMsg<'_>) {
        self.n += 1;
        self.acc = self.acc.wrapping_add(m.last.map_or(0, |p| p.0));
    }
    fn order(&mut self, m: &OrderMsg<'_>) {
        self.n += 1;
        self.acc = self.acc.wrapping_add(m.px.0 + m.status as i128);
    }
    fn fill(&mut self, m: &FillMsg<'_>) {
        self.n += 1;
        self.acc = self.acc.wrapping_add(m.fee.mantissa());
    }
    fn balance(&mut self, m: &BalanceMsg<'_>) {
        self.n += 1;
        self.acc = self.acc.wrapping_add(m.available.mantissa());
    }
    fn kline(&mut self, m: &KlineMsg<'_>) {
        // Issue 17: candles go through the same no-allocation decode.
        self.klines += 1;
        self.n += 1;
        self.acc = self.acc.wrapping_add(m.open.0 ^ m.close.0 ^ m.volume.0);
    }
    fn control(&mut self, m: &ControlMsg<'_>) {
        self.n += 1;
        self.acc = self
            .acc
            .wrapping_add(m.message.map_or(0, |s| s.len() as i128));
    }
}

#[test]
fn decoding_allocates_nothing_per_message() {
    let frames: Vec<Vec<u8>> = support::mexc::all_frames()
        .into_iter()
        .map(|(_, f)| f)
        .collect();
    let texts: Vec<Vec<u8>> = vec![
        br#"{"id":0,"code":0,"msg":"PONG"}"#.to_vec(),
        br#"{"id":3,"code":0,"msg":"spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"}"#.to_vec(),
        "{\"id\":0,\"code\":0,\"msg\":\"Not Subscribed successfully! [a,b].  Reason\\uff1a Blocked! \"}"
            .as_bytes()
            .to_vec(),
        "{\"id\":0,\"code\":0,\"msg\":\"Not Subscribed successfully! [a,b].  Reason： Blocked! \"}"
            .as_bytes()
            .to_vec(),
        br#"{"id":1,"code":700002,"msg":"bad"}"#.to_vec(),
    ];
    let mut dec = MexcDecoder::new(64);
    let mut sink = Fold::default();
    // Warm-up (first use of anything lazily initialised).
    for f in &frames {
        dec.decode(f, true, &mut sink).unwrap();
    }
    for t in &texts {
        dec.decode(t, false, &mut sink).unwrap();
    }
    let events_warm = sink.n;
    alloc::arm();
    let rounds = 500;
    for _ in 0..rounds {
        for f in &frames {
            dec.decode_binary(f, &mut sink).unwrap();
        }
        for t in &texts {
            dec.decode_text(t, &mut sink).unwrap();
        }
        // Error paths must not allocate either.
        let _ = dec.decode_binary(&frames[0][..40], &mut sink);
        let _ = dec.decode_text(b"{\"id\":", &mut sink);
    }
    let allocs = alloc::disarm();
    assert!(
        sink.klines > rounds as u64,
        "the kline capture is among the frames"
    );
    let decoded = rounds * (frames.len() + texts.len());
    assert!(decoded >= 5000, "{decoded}");
    assert_eq!(sink.n, events_warm * (rounds as u64 + 1));
    assert_eq!(allocs, 0, "{allocs} allocations over {decoded} frames");
    std::hint::black_box(sink.acc);
}

#[test]
fn writers_and_requests_allocate_nothing_once_sized() {
    use cexfeed::exchange::mexc::*;
    use cexfeed::types::{Px, Qty, Side};
    use support::mexc::encode::*;
    let levels: Vec<Level> = (0..20)
        .map(|i| Level::new(Px(842_700_000_000_000 + i * 100_000_000), Qty(1_000 + i)))
        .collect();
    let deals = [DealOut {
        px: Px(842_700_000_000_000_000_000),
        qty: Qty(9_982_900_000_000),
        side: Side::Sell,
        time_ms: 1790281246176,
        trade_id: "731901896985399296X0_731901896985399297X0",
    }];
    let mut out = Vec::with_capacity(8192);
    let mut dec = MexcDecoder::new(64);
    let mut sink = Fold::default();
    let ch = "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT";
    alloc::arm();
    for i in 0..1000u64 {
        write_aggre_depth(&mut out, ch, "BTCUSDT", 1, i, i + 1, &levels, &levels, 0);
        dec.decode_binary(&out, &mut sink).unwrap();
        write_aggre_deals(&mut out, ch, "BTCUSDT", 1, &deals);
        dec.decode_binary(&out, &mut sink).unwrap();
        write_subscribe(&mut out, &[ch, ch], i);
        write_ack(&mut out, i, &[ch]);
        write_ping(&mut out);
    }
    assert_eq!(alloc::disarm(), 0);
    assert_eq!(sink.n, 2000);
}

#[test]
fn the_counter_counts() {
    alloc::arm();
    let before = 0;
    let v = std::hint::black_box(vec![1u8; 10]);
    let after = alloc::disarm();
    drop(v);
    assert!(after > before);
}
